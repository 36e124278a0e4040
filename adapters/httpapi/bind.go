package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"
	"sync"

	"github.com/labstack/echo/v5"

	"github.com/gatehouse/gatehouse/domain"
)

// bindJSON decodes the body strictly into dst: the content type must be JSON,
// and an empty body, null, a non-object, unknown fields, wrong types or
// trailing data are VALIDATION_FAILED.
func bindJSON(c *echo.Context, dst any) error {
	mt, _, err := mime.ParseMediaType(c.Request().Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return errMediaType
	}
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return errBodyTooLarge
		}
		return domain.Invalid("the body could not be read")
	}
	// Only JSON's own whitespace may surround the object: bytes.TrimSpace
	// would also drop \v, \f and Unicode spaces (U+00A0, U+0085), which make
	// the body invalid JSON (found by FuzzBindJSON).
	body = bytes.Trim(body, " \t\r\n")
	if len(body) == 0 || body[0] != '{' {
		return domain.Invalid("the body must be a JSON object")
	}
	// encoding/json matches field names case-insensitively, so {"EMAIL": ...}
	// would pass as email; the contract refuses unknown fields, and a name in
	// another case is one.
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		return domain.Invalid("the body is not valid JSON for this route: " + jsonProblem(err))
	}
	known := jsonFieldNames(reflect.TypeOf(dst).Elem())
	for name := range fields {
		if !known[name] {
			return domain.Invalid("the body has an unknown field")
		}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return domain.Invalid("the body is not valid JSON for this route: " + jsonProblem(err))
	}
	if dec.More() {
		return domain.Invalid("the body has data after the JSON object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return domain.Invalid("the body has data after the JSON object")
	}
	return nil
}

// fieldNamesByType caches the JSON names of each request type's fields.
var fieldNamesByType sync.Map // reflect.Type -> map[string]bool

// jsonFieldNames returns the exact JSON names of the fields of struct t.
func jsonFieldNames(t reflect.Type) map[string]bool {
	if names, ok := fieldNamesByType.Load(t); ok {
		return names.(map[string]bool)
	}
	names := map[string]bool{}
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name == "" {
			name = t.Field(i).Name
		}
		names[name] = true
	}
	fieldNamesByType.Store(t, names)
	return names
}

// jsonProblem says what was wrong without echoing the input back.
func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return "field " + te.Field + " has the wrong type"
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return "malformed JSON"
	}
	if msg := err.Error(); len(msg) < 80 && bytes.HasPrefix([]byte(msg), []byte("json: unknown field")) {
		return msg[len("json: "):]
	}
	return "malformed JSON"
}

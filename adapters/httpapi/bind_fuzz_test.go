package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/labstack/echo/v5"
)

// requestTypes are the body types of every JSON route. A new route's type
// belongs here, so that its binding is fuzzed too;
// TestRequestTypesListEveryBoundType fails until it is. Append: the fuzzer
// picks a type by index, so the committed corpus keeps its meaning.
var requestTypes = []func() any{
	func() any { return new(loginRequest) },
	func() any { return new(smsLoginRequest) },
	func() any { return new(totpLoginRequest) },
	func() any { return new(resetRequest) },
	func() any { return new(refreshRequest) },
	func() any { return new(updateUserRequest) },
	func() any { return new(passwordRequest) },
	func() any { return new(phoneRequest) },
	func() any { return new(totpRequest) },
	func() any { return new(recoveryCodesRequest) },
}

// FuzzBindJSON checks that bindJSON accepts exactly what the strict rules of
// API.md allow, for every request type: a JSON object (nothing before or
// after it but JSON whitespace) whose every key is, in exact case, a field of
// the type and whose every value has the field's type. What it accepts holds
// only valid UTF-8, and marshalling it back binds again to the same value.
//
// A key given twice is the one case the contract leaves open: refusing it is
// fine, and accepting it must keep the last value, as encoding/json does, so
// that no two readers of one body see different requests.
func FuzzBindJSON(f *testing.F) {
	seeds := []string{
		`{"email":"a@example.com","password":"pw"}`,
		`{"email":"a@example.com","password":"pw","admin":true}`,
		`{"EMAIL":"a@example.com","password":"pw"}`,
		`{"email":"a@example.com","email":"b@example.com","password":"pw"}`,
		`{"email":1,"password":"pw"}`,
		`{"email":"\xff\xfe","password":"pw"}`,
		`{"email":"a@example.com"} {}`,
		`{"email":"a@example.com"}x`,
		"\u00a0{\"code\":\"123456\"}",
		"\v{\"code\":\"123456\"}\f",
		`null`, ``, `[]`, `"s"`, `{}`,
		`{"key":"Name","name":null}`,
		`{"key":"Email","email":"a@example.com","name":"n","avatar":"https://a/b"}`,
		`{"totp":"otpauth://totp/x?secret=AAAA","tss":["123456","654321"]}`,
		`{"totp":"otpauth://totp/x?secret=AAAA","tss":[1,2]}`,
		`{"totp":"x","tss":null}`,
		`{"code":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`,
		`{"code":{"a":{"b":{"c":"d"}}}}`,
		`{"code":"\ud800"}`,
		`{"password":"pw"}`,
		`{"password":"pw","codes":10}`,
	}
	for _, s := range seeds {
		for kind := range requestTypes {
			f.Add(uint8(kind), []byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, kind uint8, body []byte) {
		newDst := requestTypes[int(kind)%len(requestTypes)]
		dst := newDst()
		err := bindBody(dst, body)

		want, dup := strictlyValid(t, reflect.TypeOf(dst).Elem(), body)
		switch {
		case err == nil && !want:
			t.Fatalf("%T accepted %q, which the strict rules refuse", dst, body)
		case err != nil && want && !dup:
			t.Fatalf("%T refused %q, which the strict rules accept: %v", dst, body, err)
		case err != nil:
			return
		}

		checkUTF8(t, reflect.ValueOf(dst).Elem())
		if dup {
			// The last value wins: what encoding/json alone makes of it.
			last := newDst()
			if err := json.Unmarshal(body, last); err != nil || !reflect.DeepEqual(dst, last) {
				t.Fatalf("%q with a repeated key bound to %+v, want the last value %+v", body, dst, last)
			}
		}
		again, err := json.Marshal(dst)
		if err != nil {
			t.Fatalf("marshal %+v: %v", dst, err)
		}
		round := newDst()
		if err := bindBody(round, again); err != nil || !reflect.DeepEqual(dst, round) {
			t.Fatalf("round trip of %q through %s gave %+v, %v; want %+v", body, again, round, err, dst)
		}
	})
}

// bindBody runs bindJSON on a POST carrying body as application/json.
func bindBody(dst any, body []byte) error {
	req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	c := echo.New().NewContext(req, httptest.NewRecorder())
	return bindJSON(c, dst)
}

// strictlyValid is the oracle: whether body meets the strict rules for
// struct type t, written independently of bindJSON, and whether it repeats
// a key.
func strictlyValid(t *testing.T, st reflect.Type, body []byte) (ok, duplicate bool) {
	trimmed := bytes.Trim(body, " \t\r\n")
	if !json.Valid(trimmed) || len(trimmed) == 0 || trimmed[0] != '{' {
		return false, false
	}
	fields := map[string]reflect.Type{}
	for i := range st.NumField() {
		name, _, _ := strings.Cut(st.Field(i).Tag.Get("json"), ",")
		fields[name] = st.Field(i).Type
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	if _, err := dec.Token(); err != nil { // {
		t.Fatalf("valid object %q: %v", trimmed, err)
	}
	seen := map[string]bool{}
	ok = true
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatalf("valid object %q: %v", trimmed, err)
		}
		key := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			t.Fatalf("valid object %q: %v", trimmed, err)
		}
		duplicate = duplicate || seen[key]
		seen[key] = true
		ft, known := fields[key]
		if !known || !valueFits(t, ft, raw) {
			ok = false
		}
	}
	return ok, duplicate
}

// valueFits reports whether the JSON value raw has Go type ft. null fits
// every field: it leaves the field at its zero value.
func valueFits(t *testing.T, ft reflect.Type, raw json.RawMessage) bool {
	if string(raw) == "null" {
		return true
	}
	switch {
	case ft.Kind() == reflect.String:
		return raw[0] == '"'
	case ft.Kind() == reflect.Pointer && ft.Elem().Kind() == reflect.String:
		return raw[0] == '"'
	case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.String:
		var elems []json.RawMessage
		if raw[0] != '[' || json.Unmarshal(raw, &elems) != nil {
			return false
		}
		for _, e := range elems {
			if string(e) != "null" && e[0] != '"' {
				return false
			}
		}
		return true
	}
	t.Fatalf("the oracle does not know field type %s: teach valueFits", ft)
	return false
}

// checkUTF8 fails when any string in v is not valid UTF-8.
func checkUTF8(t *testing.T, v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		if !utf8.ValidString(v.String()) {
			t.Fatalf("bound a string that is not valid UTF-8: %q", v.String())
		}
	case reflect.Pointer:
		if !v.IsNil() {
			checkUTF8(t, v.Elem())
		}
	case reflect.Slice:
		for i := range v.Len() {
			checkUTF8(t, v.Index(i))
		}
	case reflect.Struct:
		for i := range v.NumField() {
			checkUTF8(t, v.Field(i))
		}
	}
}

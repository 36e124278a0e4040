package test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"
	valerrors "github.com/pb33f/libopenapi-validator/errors"
	"github.com/pb33f/libopenapi-validator/schema_validation"
	v3 "github.com/pb33f/libopenapi/datamodel/high/v3"

	"github.com/gatehouse/gatehouse/adapters/httpapi/openapi"
)

// markMalformed is a request header a test sets on a request that breaks the
// OpenAPI document on purpose (a missing field, a code of five digits, an
// unknown option): such a request is the point of its test, so only its
// response is checked. The harness removes the header before sending.
const markMalformed = "X-Test-Malformed"

// malformed is the extra header pair that marks a request, for the
// variadic extra of client.raw, send, get and post.
var malformed = []string{markMalformed, "1"}

// spec is the OpenAPI document the suite checks every exchange against.
type spec struct {
	model     *v3.Document
	validator validator.Validator
	schemas   schema_validation.SchemaValidator
}

// loadSpec builds the checker once for the whole suite: parsing and
// compiling the document takes far longer than any request.
var loadSpec = sync.OnceValues(func() (*spec, error) {
	doc, err := openapi.JSON()
	if err != nil {
		return nil, err
	}
	parsed, err := libopenapi.NewDocument(doc)
	if err != nil {
		return nil, err
	}
	model, err := parsed.BuildV3Model()
	if err != nil {
		return nil, err
	}
	// Security requirements are not checked per request: whether the
	// token is there and live is the service's to decide, and the suite
	// sends requests without one on purpose to see it refuse them. Format
	// assertions are on, so date-time, uri and the like are checked too.
	v, errs := validator.NewValidator(parsed, config.WithoutSecurityValidation(), config.WithFormatAssertions())
	if len(errs) > 0 {
		return nil, fmt.Errorf("openapi validator: %v", errs)
	}
	return &spec{model: &model.Model, validator: v, schemas: schema_validation.NewSchemaValidator(config.WithFormatAssertions())}, nil
})

// specTransport checks every request it sends (unless marked malformed)
// and every response it receives against the OpenAPI document, and fails
// the test on any difference, including a route or a status the document
// does not describe.
type specTransport struct {
	t    testing.TB
	base http.RoundTripper
}

func newSpecTransport(t testing.TB) *specTransport {
	return &specTransport{t: t, base: http.DefaultTransport}
}

func (s *specTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	sp, err := loadSpec()
	if err != nil {
		s.t.Errorf("openapi document: %v", err)
		return s.base.RoundTrip(req)
	}
	// A RoundTripper must not change the caller's request.
	req = req.Clone(req.Context())
	checkRequest := req.Header.Get(markMalformed) == ""
	req.Header.Del(markMalformed)
	var body []byte
	if req.Body != nil && req.Body != http.NoBody {
		body, err = io.ReadAll(req.Body)
		_ = req.Body.Close()
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	resp, err := s.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	respBody, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(respBody))
	if err != nil {
		return resp, nil // the caller sees the short body and fails on it
	}
	if problems := sp.check(req, body, checkRequest, resp, respBody); len(problems) > 0 {
		s.t.Errorf("OpenAPI: %s %s answered %d %s:\n  %s", req.Method, req.URL.RequestURI(), resp.StatusCode,
			bytes.TrimSpace(respBody), strings.Join(problems, "\n  "))
	}
	return resp, nil
}

// genericStatus names the components.responses entry that describes a
// status any route may answer (the document's info says so). 500 INTERNAL
// is described that way too but left out here: in the suite it is a bug,
// and fails the test like any undescribed answer.
var genericStatus = map[int]string{
	http.StatusNotFound:                    "NotFound",
	http.StatusMethodNotAllowed:            "MethodNotAllowed",
	http.StatusRequestEntityTooLarge:       "BodyTooLarge",
	http.StatusUnsupportedMediaType:        "UnsupportedMediaType",
	http.StatusRequestHeaderFieldsTooLarge: "HeaderTooLarge",
}

// check returns what is wrong with the exchange, if anything.
func (sp *spec) check(req *http.Request, body []byte, checkRequest bool, resp *http.Response, respBody []byte) []string {
	fresh := func() *http.Request {
		r := req.Clone(req.Context())
		r.Body = io.NopCloser(bytes.NewReader(body))
		return r
	}
	freshResp := func() *http.Response {
		r := *resp
		r.Body = io.NopCloser(bytes.NewReader(respBody))
		return &r
	}
	// The transport refusals (413, 415, 431) say the request was not one
	// the document allows; they are checked against their generic
	// description below, and the request itself is not.
	_, isGeneric := genericStatus[resp.StatusCode]
	if isGeneric && resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusMethodNotAllowed {
		checkRequest = false
	}
	var problems []string
	_, respErrs := sp.validator.ValidateHttpResponse(fresh(), freshResp())
	noOperation := slices.ContainsFunc(respErrs, (*valerrors.ValidationError).IsPathMissingError) ||
		slices.ContainsFunc(respErrs, (*valerrors.ValidationError).IsOperationMissingError)
	switch {
	case noOperation && !checkRequest && resp.StatusCode == http.StatusBadRequest:
		// A request malformed on purpose in a way the document cannot even
		// name (DELETE /user/, the empty key) may be refused as malformed.
		return sp.checkComponent(req, resp, respBody, "ValidationFailed")
	case slices.ContainsFunc(respErrs, (*valerrors.ValidationError).IsPathMissingError):
		// No such route: the generic 404.
		return sp.checkGeneric(req, resp, respBody, http.StatusNotFound)
	case slices.ContainsFunc(respErrs, (*valerrors.ValidationError).IsOperationMissingError):
		// The path exists with other methods: OPTIONS lists them, anything
		// else is the generic 405.
		if req.Method == http.MethodOptions {
			return sp.checkOptions(resp, respBody)
		}
		return sp.checkGeneric(req, resp, respBody, http.StatusMethodNotAllowed)
	case isGeneric && onlyUndocumentedStatus(respErrs):
		problems = append(problems, sp.checkGeneric(req, resp, respBody, resp.StatusCode)...)
	default:
		problems = append(problems, describe("response", respErrs)...)
	}
	if checkRequest {
		_, reqErrs := sp.validator.ValidateHttpRequestSync(fresh())
		problems = append(problems, describe("request (mark it with markMalformed if that is its point)", reqErrs)...)
	}
	return problems
}

// onlyUndocumentedStatus reports whether the only complaint is that the
// operation does not list the status.
func onlyUndocumentedStatus(errs []*valerrors.ValidationError) bool {
	for _, e := range errs {
		if e.ValidationSubType != "statusCode" {
			return false
		}
	}
	return len(errs) > 0
}

// checkGeneric checks resp against the generic answer for status.
func (sp *spec) checkGeneric(req *http.Request, resp *http.Response, body []byte, status int) []string {
	if resp.StatusCode != status {
		return []string{fmt.Sprintf("status %d is not described (want %d %s)", resp.StatusCode, status, genericStatus[status])}
	}
	return sp.checkComponent(req, resp, body, genericStatus[status])
}

// checkComponent checks resp against components.responses[name].
func (sp *spec) checkComponent(req *http.Request, resp *http.Response, body []byte, name string) []string {
	r := sp.model.Components.Responses.GetOrZero(name)
	if r == nil {
		return []string{"components.responses." + name + " is missing"}
	}
	var problems []string
	for header, h := range r.Headers.FromOldest() {
		if h.Required && resp.Header.Get(header) == "" {
			problems = append(problems, fmt.Sprintf("header %s is required by %s", header, name))
		}
	}
	if req.Method == http.MethodHead {
		return problems // HEAD answers have no body
	}
	mt := strings.TrimSpace(strings.Split(resp.Header.Get("Content-Type"), ";")[0])
	media := r.Content.GetOrZero(mt)
	if media == nil || media.Schema == nil {
		return append(problems, fmt.Sprintf("content type %q is not described by %s", mt, name))
	}
	if mt != "application/json" {
		return problems
	}
	if ok, errs := sp.schemas.ValidateSchemaBytes(media.Schema.Schema(), body); !ok {
		problems = append(problems, describe(name, errs)...)
	}
	return problems
}

// checkOptions checks an answer to OPTIONS against the generic Options.
func (sp *spec) checkOptions(resp *http.Response, body []byte) []string {
	if resp.StatusCode != http.StatusNoContent || len(body) != 0 {
		return []string{fmt.Sprintf("OPTIONS answered %d with %d bytes; the document describes 204 without a body", resp.StatusCode, len(body))}
	}
	return nil
}

// describe renders validation errors with their schema details.
func describe(what string, errs []*valerrors.ValidationError) []string {
	var out []string
	for _, e := range errs {
		line := what + ": " + e.Message
		if e.Reason != "" && e.Reason != e.Message {
			line += " (" + e.Reason + ")"
		}
		for _, f := range e.SchemaValidationErrors {
			line += "; " + f.FieldPath + ": " + f.Reason
		}
		out = append(out, line)
	}
	return out
}

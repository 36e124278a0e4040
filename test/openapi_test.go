package test

import (
	"bytes"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"

	"github.com/gatehouse/gatehouse/adapters/httpapi/openapi"
	"github.com/gatehouse/gatehouse/internal/config"
)

// The document is a valid OpenAPI 3.1 document.
func TestOpenAPIDocumentIsValid(t *testing.T) {
	doc, err := openapi.JSON()
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := libopenapi.NewDocument(doc)
	if err != nil {
		t.Fatal(err)
	}
	if v := parsed.GetVersion(); !strings.HasPrefix(v, "3.1.") {
		t.Fatalf("openapi %q, want 3.1.x", v)
	}
	v, errs := validator.NewValidator(parsed)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if ok, errs := v.ValidateDocument(); !ok {
		for _, p := range describe("document", errs) {
			t.Error(p)
		}
	}
	if _, err := loadSpec(); err != nil {
		t.Fatal(err)
	}
}

// GET /openapi.json serves the embedded document, public and cacheable.
func TestOpenAPIServed(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		e := newEnv(t, m, nil)
		r := e.bare().get("/openapi.json")
		expect(t, r, http.StatusOK, "")
		want, _ := openapi.JSON()
		if !bytes.Equal(r.body, want) {
			t.Fatal("GET /openapi.json differs from the embedded document")
		}
		if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Fatalf("Content-Type %q", ct)
		}
		if cc := r.header.Get("Cache-Control"); !strings.HasPrefix(cc, "public, max-age=") {
			t.Fatalf("Cache-Control %q", cc)
		}
	})
}

// servedNotDescribable are routes the router serves that OpenAPI cannot
// name, with why they exist.
var servedNotDescribable = map[string]string{
	// DELETE /user/{key} with an empty key: a 400 rather than a 404. OpenAPI
	// tools treat /user/ as /user, so the document says it in the
	// description of DELETE /user/{key}.
	"DELETE /user/": "empty key",
}

// Every route the router serves is in the document, and every operation of
// the document is a route the router serves.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	// Lark on, so its routes are served too (without it they answer 404).
	e := newEnv(t, memoryMode, func(c *config.Config) {
		c.LarkAppID, c.LarkAppSecret = larkAppID, larkAppSecret
		c.LarkRedirectURL, c.LarkFrontendURL = larkRedirect, larkFrontend
	})
	sp, err := loadSpec()
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for path, item := range sp.model.Paths.PathItems.FromOldest() {
		for method := range item.GetOperations().FromOldest() {
			documented[strings.ToUpper(method)+" "+path] = true
		}
	}
	served := map[string]bool{}
	for _, r := range e.app.Handler.Router().Routes() {
		// Echo writes a parameter :name, OpenAPI {name}.
		parts := strings.Split(r.Path, "/")
		for i, p := range parts {
			if strings.HasPrefix(p, ":") {
				parts[i] = "{" + p[1:] + "}"
			}
		}
		served[r.Method+" "+strings.Join(parts, "/")] = true
	}
	for _, route := range slices.Sorted(maps.Keys(served)) {
		if !documented[route] && servedNotDescribable[route] == "" {
			t.Errorf("%s is served but not in the OpenAPI document", route)
		}
	}
	for _, route := range slices.Sorted(maps.Keys(documented)) {
		if !servedBy(served, route) {
			t.Errorf("%s is in the OpenAPI document but not served", route)
		}
	}
}

// servedBy reports whether a served route answers route: itself, or a
// pattern whose parameter takes the literal segment (DELETE /user/phone is
// DELETE /user/{key}, which the document spells out per key).
func servedBy(served map[string]bool, route string) bool {
	if served[route] {
		return true
	}
	want := strings.Split(route, "/")
	for s := range served {
		got := strings.Split(s, "/")
		if len(got) != len(want) {
			continue
		}
		match := true
		for i := range got {
			if got[i] != want[i] && !strings.HasPrefix(got[i], "{") {
				match = false
				break
			}
		}
		if match {
			return true
		}
	}
	return false
}

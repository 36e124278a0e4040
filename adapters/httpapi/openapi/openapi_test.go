package openapi

import (
	"bytes"
	"encoding/json"
	"testing"
)

func TestJSONKeepsTheDocument(t *testing.T) {
	doc, err := JSON()
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(doc, &v); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if v.OpenAPI != "3.1.0" {
		t.Fatalf("openapi %q", v.OpenAPI)
	}
	if _, ok := v.Paths["/login"]["post"]; !ok {
		t.Fatal("POST /login is missing")
	}
	// Written order survives: openapi first, the paths in contract order,
	// status codes as strings.
	if !bytes.HasPrefix(doc, []byte(`{"openapi":"3.1.0","info":`)) {
		t.Fatalf("document starts %.40s", doc)
	}
	if i, j := bytes.Index(doc, []byte(`"/login":`)), bytes.Index(doc, []byte(`"/user":`)); i < 0 || j < i {
		t.Fatal("paths lost their order")
	}
	if !bytes.Contains(doc, []byte(`"204":`)) {
		t.Fatal("status codes are not strings")
	}
}

func TestJSONRefusesBrokenYAML(t *testing.T) {
	saved := YAML
	t.Cleanup(func() { YAML = saved })
	YAML = []byte("a: [1, 2\n")
	if _, err := JSON(); err == nil {
		t.Fatal("broken YAML rendered")
	}
}

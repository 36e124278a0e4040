// Package openapi holds Gatehouse's OpenAPI 3.1 document, embedded in the
// binary, and renders it as the JSON that GET /openapi.json serves.
//
// The document is written by hand in YAML rather than generated from Go
// types: the contract (API.md) is prose, and most of what a client needs,
// which error codes each route answers, the cookies and the CSRF rule, is
// not in any Go type. The black-box suite keeps the two honest: it checks
// every request it sends and every response it receives against this
// document.
package openapi

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"

	"gopkg.in/yaml.v3"
)

// YAML is the document as written.
//
//go:embed openapi.yaml
var YAML []byte

// JSON renders the document as JSON, keeping the order in which it is
// written (paths in the order of the contract) so that people reading the
// served document find what they read in the repository.
func JSON() ([]byte, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(YAML, &root); err != nil {
		return nil, fmt.Errorf("openapi document: %w", err)
	}
	var buf bytes.Buffer
	if err := writeJSON(&buf, &root); err != nil {
		return nil, fmt.Errorf("openapi document: %w", err)
	}
	return buf.Bytes(), nil
}

// writeJSON writes n as JSON: mappings as objects in document order,
// sequences as arrays, scalars as the value YAML resolves them to.
func writeJSON(buf *bytes.Buffer, n *yaml.Node) error {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) != 1 {
			return fmt.Errorf("line %d: want one document", n.Line)
		}
		return writeJSON(buf, n.Content[0])
	case yaml.AliasNode:
		return writeJSON(buf, n.Alias)
	case yaml.MappingNode:
		buf.WriteByte('{')
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind != yaml.ScalarNode {
				return fmt.Errorf("line %d: a key must be a scalar", k.Line)
			}
			if i > 0 {
				buf.WriteByte(',')
			}
			key, _ := json.Marshal(k.Value) // an OpenAPI key is text, "200" included
			buf.Write(key)
			buf.WriteByte(':')
			if err := writeJSON(buf, n.Content[i+1]); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
	case yaml.SequenceNode:
		buf.WriteByte('[')
		for i, item := range n.Content {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := writeJSON(buf, item); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
	case yaml.ScalarNode:
		var v any
		if err := n.Decode(&v); err != nil {
			return fmt.Errorf("line %d: %w", n.Line, err)
		}
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("line %d: %w", n.Line, err)
		}
		buf.Write(b)
	default:
		return fmt.Errorf("line %d: unexpected YAML node", n.Line)
	}
	return nil
}

package domain

import (
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"strconv"
	"testing"
)

// Codes lists every Code constant of errors.go exactly once, so the edge's
// table, checked against Codes, covers every code the domain can raise.
func TestCodesListsEveryCode(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "errors.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var declared []Code
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, spec := range g.Specs {
			v := spec.(*ast.ValueSpec)
			if id, ok := v.Type.(*ast.Ident); !ok || id.Name != "Code" {
				continue
			}
			for _, value := range v.Values {
				lit, ok := value.(*ast.BasicLit)
				if !ok {
					t.Fatalf("Code constant with a non-literal value: %T", value)
				}
				s, err := strconv.Unquote(lit.Value)
				if err != nil {
					t.Fatal(err)
				}
				declared = append(declared, Code(s))
			}
		}
	}
	listed := Codes()
	if len(declared) == 0 {
		t.Fatal("found no Code constant in errors.go")
	}
	for _, c := range declared {
		if !slices.Contains(listed, c) {
			t.Errorf("Code %s is declared but missing from Codes()", c)
		}
	}
	seen := map[Code]bool{}
	for _, c := range listed {
		if seen[c] {
			t.Errorf("Code %s is listed twice", c)
		}
		seen[c] = true
		if !slices.Contains(declared, c) {
			t.Errorf("Codes() lists %s, which is not a constant of errors.go", c)
		}
	}
}

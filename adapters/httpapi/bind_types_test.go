package httpapi

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestRequestTypesListEveryBoundType keeps FuzzBindJSON complete: every type
// the package's source hands to bindJSON is in requestTypes, and every type
// there is still bound somewhere. It reads the source rather than the routes,
// so a new route fails here before anyone remembers the fuzz list. A call it
// cannot read (the destination passed through a variable of type any, say)
// fails too, so that nothing slips past unread.
func TestRequestTypesListEveryBoundType(t *testing.T) {
	bound := boundRequestTypes(t)
	if len(bound) == 0 {
		t.Fatal("found no call of bindJSON in the package source")
	}
	listed := map[string]bool{}
	for _, newDst := range requestTypes {
		listed[reflect.TypeOf(newDst()).Elem().Name()] = true
	}
	for name, where := range bound {
		if !listed[name] {
			t.Errorf("%s binds %s, which requestTypes (bind_fuzz_test.go) lacks: add it so FuzzBindJSON covers it", where, name)
		}
	}
	for name := range listed {
		if _, ok := bound[name]; !ok {
			t.Errorf("requestTypes lists %s, which no call of bindJSON binds any more", name)
		}
	}
}

// boundRequestTypes parses the package's non-test files and returns the
// name of each type passed to bindJSON, with the position of one call. The
// destination may be &v for a v declared in the same function (var v T or
// v := T{}), &T{} or new(T).
func boundRequestTypes(t *testing.T) map[string]string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	bound := map[string]string{}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range file.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			vars := localTypes(fn.Body)
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				if id, ok := call.Fun.(*ast.Ident); !ok || id.Name != "bindJSON" {
					return true
				}
				where := fset.Position(call.Pos()).String()
				if len(call.Args) != 2 {
					t.Errorf("%s: bindJSON with %d arguments", where, len(call.Args))
					return true
				}
				typ := pointeeType(call.Args[1], vars)
				if typ == "" {
					t.Errorf("%s: cannot tell which type bindJSON binds here; bind &v of a local var v T, or teach boundRequestTypes", where)
					return true
				}
				bound[typ] = where
				return true
			})
		}
	}
	return bound
}

// localTypes maps the variables declared in body as var v T or v := T{} to
// the name of T.
func localTypes(body *ast.BlockStmt) map[string]string {
	vars := map[string]string{}
	ast.Inspect(body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.ValueSpec:
			if id, ok := n.Type.(*ast.Ident); ok {
				for _, v := range n.Names {
					vars[v.Name] = id.Name
				}
			}
		case *ast.AssignStmt:
			if n.Tok != token.DEFINE || len(n.Lhs) != len(n.Rhs) {
				return true
			}
			for i, lhs := range n.Lhs {
				v, ok := lhs.(*ast.Ident)
				lit, isLit := n.Rhs[i].(*ast.CompositeLit)
				if !ok || !isLit {
					continue
				}
				if id, ok := lit.Type.(*ast.Ident); ok {
					vars[v.Name] = id.Name
				}
			}
		}
		return true
	})
	return vars
}

// pointeeType is the name of the type e points to when e is &v (v in vars),
// &T{} or new(T), and "" otherwise.
func pointeeType(e ast.Expr, vars map[string]string) string {
	switch e := e.(type) {
	case *ast.UnaryExpr:
		if e.Op != token.AND {
			return ""
		}
		switch x := e.X.(type) {
		case *ast.Ident:
			return vars[x.Name]
		case *ast.CompositeLit:
			if id, ok := x.Type.(*ast.Ident); ok {
				return id.Name
			}
		}
	case *ast.CallExpr:
		if id, ok := e.Fun.(*ast.Ident); ok && id.Name == "new" && len(e.Args) == 1 {
			if typ, ok := e.Args[0].(*ast.Ident); ok {
				return typ.Name
			}
		}
	}
	return ""
}

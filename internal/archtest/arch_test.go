package archtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// pkg is the part of `go list -json` output the rules read.
type pkg struct {
	ImportPath string
	Imports    []string
	DepOnly    bool
	Error      *struct{ Err string }
}

// graph is the import graph of the module's packages and everything they
// import, built without test files.
type graph struct {
	module string
	pkgs   map[string]*pkg
}

func loadGraph(t *testing.T) *graph {
	t.Helper()
	module := strings.TrimSpace(goCmd(t, "list", "-m"))
	out := goCmd(t, "list", "-deps", "-json=ImportPath,Imports,DepOnly,Error", module+"/...")
	g := &graph{module: module, pkgs: map[string]*pkg{}}
	dec := json.NewDecoder(bytes.NewReader([]byte(out)))
	for {
		p := new(pkg)
		err := dec.Decode(p)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("decode go list output: %v", err)
		}
		if p.Error != nil {
			t.Fatalf("go list %s: %s", p.ImportPath, p.Error.Err)
		}
		g.pkgs[p.ImportPath] = p
	}
	return g
}

func goCmd(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command("go", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

// own returns the module's packages whose path (relative to the module) is
// dir or lies under it, sorted; dir "" means all of them.
func (g *graph) own(dir string) []string {
	var paths []string
	for path, p := range g.pkgs {
		rel, ok := g.rel(path)
		if ok && !p.DepOnly && (dir == "" || rel == dir || strings.HasPrefix(rel, dir+"/")) {
			paths = append(paths, path)
		}
	}
	slices.Sort(paths)
	return paths
}

// rel returns path relative to the module, and whether it is the module's.
func (g *graph) rel(path string) (string, bool) {
	return strings.CutPrefix(path, g.module+"/")
}

// chain returns the shortest import chain from 'from' to a package that
// forbidden reports, or nil when there is none. A breadth-first walk, so the
// failure names the shortest path to fix.
func (g *graph) chain(from string, forbidden func(string) bool) []string {
	prev := map[string]string{from: ""}
	queue := []string{from}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		p := g.pkgs[cur]
		if p == nil {
			continue
		}
		for _, imp := range p.Imports {
			if _, seen := prev[imp]; seen {
				continue
			}
			prev[imp] = cur
			if forbidden(imp) {
				var path []string
				for at := imp; at != ""; at = prev[at] {
					path = append(path, at)
				}
				slices.Reverse(path)
				return path
			}
			queue = append(queue, imp)
		}
	}
	return nil
}

func (g *graph) short(chain []string) string {
	parts := make([]string, len(chain))
	for i, path := range chain {
		if rel, ok := g.rel(path); ok {
			path = rel
		}
		parts[i] = path
	}
	return strings.Join(parts, " -> ")
}

// coreForbidden lists what the domain and the ports must never reach, by
// import-path prefix: the adapters, and the libraries that belong to them.
func coreForbidden(module string) []string {
	return []string{
		module + "/adapters/",
		"github.com/labstack/echo",
		"github.com/jackc/pgx",
		"github.com/redis/rueidis",
		"github.com/lestrrat-go/jwx",
		"github.com/knadh/koanf",
		"net/http",
	}
}

func hasPathPrefix(path, prefix string) bool {
	if strings.HasSuffix(prefix, "/") {
		return strings.HasPrefix(path, prefix)
	}
	return path == prefix || strings.HasPrefix(path, prefix+"/")
}

func TestArchitecture(t *testing.T) {
	g := loadGraph(t)
	core := append(g.own("domain"), g.own("ports")...)
	adapters := g.own("adapters")
	if len(core) == 0 || len(adapters) == 0 {
		t.Fatalf("go list found %d domain/ports and %d adapter packages; the rules would check nothing", len(core), len(adapters))
	}

	t.Run("domain and ports import no adapter or edge library", func(t *testing.T) {
		forbidden := coreForbidden(g.module)
		for _, from := range core {
			c := g.chain(from, func(path string) bool {
				return slices.ContainsFunc(forbidden, func(prefix string) bool { return hasPathPrefix(path, prefix) })
			})
			if c != nil {
				t.Errorf("%s must not depend on %s: %s", g.short(c[:1]), g.short(c[len(c)-1:]), g.short(c))
			}
		}
	})

	t.Run("adapters import no other adapter", func(t *testing.T) {
		for _, from := range adapters {
			rel, _ := g.rel(from)
			self := g.module + "/" + strings.Join(strings.SplitN(rel, "/", 3)[:2], "/") // adapters/<name>
			c := g.chain(from, func(path string) bool {
				return hasPathPrefix(path, g.module+"/adapters/") && !hasPathPrefix(path, self)
			})
			if c != nil {
				t.Errorf("%s must not depend on another adapter (compose them in internal/app): %s", g.short(c[:1]), g.short(c))
			}
		}
	})

	t.Run("the binary links no test-support package", func(t *testing.T) {
		// Test support is named so: storetest, testinbox, testlark,
		// testtencent, geotest, portstest, and whatever comes next.
		isSupport := func(path string) bool {
			if !hasPathPrefix(path, g.module) {
				return false
			}
			name := path[strings.LastIndex(path, "/")+1:]
			return strings.HasPrefix(name, "test") || strings.HasSuffix(name, "test")
		}
		for _, from := range g.own("") {
			if isSupport(from) {
				continue
			}
			if c := g.chain(from, isSupport); c != nil {
				t.Errorf("%s must not import a test-support package: %s", g.short(c[:1]), g.short(c))
			}
		}
	})
}

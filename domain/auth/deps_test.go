package auth_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/domain/auth"
)

// optionalDeps may be nil: Lark is off when it is not configured, and a
// nil Observer observes nothing.
var optionalDeps = map[string]bool{"Lark": true, "Observer": true}

// Every other dependency is required: New refuses deps with any one of them
// missing, and says which, rather than leaving a nil to be found on a rare
// path.
func TestNewRefusesMissingDependency(t *testing.T) {
	full := newEnv(t).deps
	fields := reflect.TypeFor[auth.Deps]().NumField()
	for i := range fields {
		deps := full
		field := reflect.ValueOf(&deps).Elem().Field(i)
		name := reflect.TypeFor[auth.Deps]().Field(i).Name
		if optionalDeps[name] {
			continue
		}
		t.Run(name, func(t *testing.T) {
			field.SetZero()
			svc, err := auth.New(deps, policy)
			if err == nil || svc != nil {
				t.Fatalf("New without %s = %v, %v; want an error", name, svc, err)
			}
			if !strings.Contains(err.Error(), name) {
				t.Errorf("New without %s: %v; want the error to name it", name, err)
			}
		})
	}
}

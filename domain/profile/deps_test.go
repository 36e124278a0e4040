package profile_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/domain/profile"
)

// Every dependency is required: New refuses deps with any one of them
// missing, and says which, rather than leaving a nil to be found on a rare
// path.
func TestNewRefusesMissingDependency(t *testing.T) {
	full := newEnv(t).deps
	fields := reflect.TypeFor[profile.Deps]().NumField()
	for i := range fields {
		deps := full
		field := reflect.ValueOf(&deps).Elem().Field(i)
		name := reflect.TypeFor[profile.Deps]().Field(i).Name
		t.Run(name, func(t *testing.T) {
			field.SetZero()
			svc, err := profile.New(deps, profile.Policy{})
			if err == nil || svc != nil {
				t.Fatalf("New without %s = %v, %v; want an error", name, svc, err)
			}
			if !strings.Contains(err.Error(), name) {
				t.Errorf("New without %s: %v; want the error to name it", name, err)
			}
		})
	}
}

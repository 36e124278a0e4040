package domain

import "fmt"

// Dependency is one dependency a service is built with, by the name of its
// Deps field, and whether it was left out.
type Dependency struct {
	Name    string
	Missing bool
}

// RequireDependencies returns an error naming the first missing one of
// service's dependencies, so a service is refused at start-up rather than
// failing on a nil in a rare path.
func RequireDependencies(service string, deps ...Dependency) error {
	for _, d := range deps {
		if d.Missing {
			return fmt.Errorf("%s: dependency %s is missing", service, d.Name)
		}
	}
	return nil
}

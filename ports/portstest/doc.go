// Package portstest holds one contract test suite per port, run against every
// implementation so the in-memory fakes stay as strict as the real stores.
package portstest

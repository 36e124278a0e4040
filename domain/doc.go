// Package domain holds Gatehouse's core types and rules: users, sessions,
// verification codes, password and lockout policies, and the errors that carry
// the API's stable error codes. It is pure Go: no HTTP, SQL or Redis here, and
// no wire-format tags; the services that use these types live in the
// sub-packages auth, profile and mfa, and reach storage only through ports.
package domain

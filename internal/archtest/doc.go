// Package archtest checks Gatehouse's architecture from its import graph, so
// the hexagon is enforced by a test rather than hoped for. It has no code of
// its own: its test reads `go list -deps -json` and fails when
//
//   - a package under domain/ or ports/ imports, directly or through any
//     chain of imports, an adapter (adapters/...) or a technology the core
//     must not know: Echo, pgx, rueidis, jwx, koanf, net/http;
//   - an adapter imports another adapter: adapters are composed only in
//     internal/app (and cmd/gatehouse, which calls internal/app);
//   - a package of the binary imports a test-support package
//     (internal/storetest, internal/testinbox, ports/portstest), which would
//     link the testing package and test fixtures into production.
//
// The rules read the import graph of the code that is built into the binary,
// not of _test.go files. Tests are where fixtures are composed: the external
// tests of domain/auth, domain/mfa and domain/profile run the services on
// adapters/memory, adapters/clock (the fake clock), adapters/argon2 and
// adapters/jwt; adapter tests use the fake clock, the sms log sender or
// internal/storetest, and ports/portstest runs against every store. None of
// that is linked into the binary and none of it can make the domain depend
// on an adapter. The test-support packages themselves may use real drivers
// (internal/storetest speaks pgx and rueidis to reset a schema or key
// prefix; internal/testinbox is an HTTP and SMTP server), because they are
// test fixtures, not core; ports/portstest, being under ports/, is held to
// the core's rule and uses only the domain, the ports and the standard
// library.
//
// The test shells out to the go command, whose reads go test cannot see:
// run it with -count=1 (as `go tool task test` and .ci/run do) so a cached
// pass never hides an import added since.
package archtest

// Package memory provides in-memory adapters for every store port. They are
// safe for concurrent use and honour TTLs through ports.Clock, so a fake
// clock moves them through time without sleeping. `go run` with no
// configuration uses them, and so do the integration tests; the contract
// suites of ports/portstest hold them to the same rules as the real stores:
// single use under concurrency, TTLs, voided codes.
package memory

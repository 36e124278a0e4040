// Package ports declares the interfaces Gatehouse's domain services consume:
// storage, counters, hashing, tokens, delivery and time. Their signatures use
// only domain and standard-library types, so an adapter (in memory,
// PostgreSQL, Redis, SMTP...) can be swapped without touching the domain.
// Every store returns domain.ErrUnavailable (wrapped) when its backend cannot
// be reached, so the edge can answer 503 rather than a wrong verdict.
//
// Randomness is not a port: a service that draws codes or secrets takes an
// io.Reader (crypto/rand.Reader outside tests), and bearer secrets such as
// session ids come from crypto/rand itself.
package ports

// Package storetest holds helpers for tests that need the real PostgreSQL
// and Redis; it is for tests only. It finds the stores through
// GATEHOUSE_TEST_DATABASE_URL and GATEHOUSE_TEST_REDIS_URL, falling back to
// local defaults, and skips only when a variable is "skip": a store that
// cannot be reached fails the test, so a missing store never passes for a
// green run. Each test gets a schema and a key prefix of its own, removed
// when it ends, and Proxy stands between a test and a store to simulate an
// outage.
package storetest

//go:build race

package test

// raceEnabled scales down the tests that count in millions: the race
// detector makes each request some ten times slower.
const raceEnabled = true

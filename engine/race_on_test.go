//go:build race

package engine_test

// raceEnabled: the race detector is on. Its sync.Pool drops a quarter of
// what is put back, on purpose, so allocation counts mean nothing then.
const raceEnabled = true

package main

import (
	"slices"
	"testing"
)

// TestRateLog: one line per rateLogEvery; the next one counts those left
// out meanwhile.
func TestRateLog(t *testing.T) {
	var lines []string
	l := &rateLog{out: func(s string) { lines = append(lines, s) }}
	for i := range 3 {
		l.printf("error %d", i)
	}
	l.mu.Lock()
	l.last = l.last.Add(-rateLogEvery) // as if rateLogEvery had passed
	l.mu.Unlock()
	l.printf("error %d", 3)
	l.printf("error %d", 4)
	want := []string{"error 0", "error 3 (and 2 more since the last line)"}
	if !slices.Equal(lines, want) {
		t.Fatalf("logged %q, want %q", lines, want)
	}
}

package main

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

// TestRateLog: one record per rateLogEvery; the next one counts those left
// out meanwhile.
func TestRateLog(t *testing.T) {
	var out bytes.Buffer
	h := slog.NewTextHandler(&out, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}})
	l := &rateLog{log: slog.New(h)}
	for i := range 3 {
		l.warn("failed", slog.Int("n", i))
	}
	l.mu.Lock()
	l.last = l.last.Add(-rateLogEvery) // as if rateLogEvery had passed
	l.mu.Unlock()
	l.warn("failed", slog.Int("n", 3))
	l.warn("failed", slog.Int("n", 4))
	want := "level=WARN msg=failed n=0\nlevel=WARN msg=failed n=3 suppressed=2\n"
	if got := out.String(); got != want {
		t.Fatalf("logged\n%s\nwant\n%s", got, strings.TrimSpace(want))
	}
}

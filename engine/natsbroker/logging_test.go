package natsbroker

import (
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// logBuffer collects a JSON handler's records. Safe for concurrent use.
type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// logger returns a Debug logger writing JSON records to l.
func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// records returns the records with message msg.
func (l *logBuffer) records(t testing.TB, msg string) []map[string]any {
	t.Helper()
	l.mu.Lock()
	text := l.b.String()
	l.mu.Unlock()
	var rs []map[string]any
	for line := range strings.Lines(text) {
		var r map[string]any
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("a log line is not JSON: %q", line)
		}
		if r["msg"] == msg {
			rs = append(rs, r)
		}
	}
	return rs
}

// TestErrLog: one record per errLogEvery; the next one counts those left
// out.
func TestErrLog(t *testing.T) {
	var l errLog
	now := time.Now()
	var got []int
	for i := range 5 {
		at := now.Add(time.Duration(i) * time.Second)
		if i == 4 {
			at = now.Add(errLogEvery)
		}
		if ok, n := l.admit(at); ok {
			got = append(got, n)
		}
	}
	if len(got) != 2 || got[0] != 0 || got[1] != 3 {
		t.Fatalf("admitted with %v left out, want [0 3]", got)
	}
}

package main

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/volley-ws/volley/internal/logattr"
)

// rateLogEvery is the shortest time between two records of a rateLog.
const rateLogEvery = 10 * time.Second

// rateLog logs at most a record every rateLogEvery, counting the ones it
// leaves out, so that a NATS server that is down does not flood the log
// with a record per message. Its zero value logs to slog.Default(). Safe
// for concurrent use; warn waits on nothing but a short lock and, once per
// rateLogEvery, the log's output.
type rateLog struct {
	log     *slog.Logger // nil: slog.Default()
	mu      sync.Mutex
	last    time.Time
	skipped int
}

// warn logs msg with attrs at Warn, unless the last record was logged
// less than rateLogEvery ago; the next record logged says how many were
// left out (logattr.KeySuppressed).
func (l *rateLog) warn(msg string, attrs ...slog.Attr) {
	lg := l.log
	if lg == nil {
		lg = slog.Default()
	}
	if !lg.Enabled(context.Background(), slog.LevelWarn) {
		return
	}
	l.mu.Lock()
	now := time.Now()
	if !l.last.IsZero() && now.Sub(l.last) < rateLogEvery {
		l.skipped++
		l.mu.Unlock()
		return
	}
	l.last = now
	skipped := l.skipped
	l.skipped = 0
	l.mu.Unlock()
	if skipped > 0 {
		attrs = append(attrs, slog.Int(logattr.KeySuppressed, skipped))
	}
	lg.LogAttrs(context.Background(), slog.LevelWarn, msg, attrs...)
}

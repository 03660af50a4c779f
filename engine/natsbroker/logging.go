package natsbroker

import (
	"context"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	nats "github.com/nats-io/nats.go"

	"github.com/volley-ws/volley/internal/logattr"
)

// errLogEvery is the shortest time between two error records of a
// Broker: a NATS server that is down fails every publish, and the log
// gets one line per errLogEvery with the number left out, not one per
// message. Stats.Errors and Config.OnError see them all.
const errLogEvery = 10 * time.Second

// errLog limits a Broker's error records to one per errLogEvery. The zero
// value is ready; safe for concurrent use.
type errLog struct {
	mu         sync.Mutex
	last       time.Time
	suppressed int
}

// admit reports whether a record may be written now, and how many were
// left out since the last one.
func (l *errLog) admit(now time.Time) (bool, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.last.IsZero() && now.Sub(l.last) < errLogEvery {
		l.suppressed++
		return false, 0
	}
	n := l.suppressed
	l.last, l.suppressed = now, 0
	return true, n
}

// logError writes err to the broker's logger at level with attrs, unless
// the last error record of that level (Warn or Error) is less than
// errLogEvery old. Any goroutine.
func (b *Broker) logError(level slog.Level, err error, attrs ...slog.Attr) {
	ctx := context.Background()
	if !b.log.Enabled(ctx, level) {
		return
	}
	l := &b.warnLog
	if level >= slog.LevelError {
		l = &b.errorLog
	}
	ok, suppressed := l.admit(time.Now())
	if !ok {
		return
	}
	attrs = append([]slog.Attr{logattr.Err(err)}, attrs...)
	if suppressed > 0 {
		attrs = append(attrs, slog.Int(logattr.KeySuppressed, suppressed))
	}
	b.log.LogAttrs(ctx, level, "nats: broker error", attrs...)
}

// logPanicStack returns the attributes of a panic recovered with v: its
// value and the stack, for the deferred function that recovered it.
func logPanicStack(v any) []slog.Attr {
	return []slog.Attr{logattr.Panic(v), logattr.Stack(debug.Stack())}
}

// logDisconnected logs the loss of the connection to NATS: at Warn with
// its error, at Info without one (a server's clean close). nats.go's
// goroutine.
func (b *Broker) logDisconnected(url string, err error) {
	if err == nil {
		b.log.LogAttrs(context.Background(), slog.LevelInfo, "nats: disconnected", slog.String(logattr.KeyURL, url))
		return
	}
	b.log.LogAttrs(context.Background(), slog.LevelWarn, "nats: disconnected", slog.String(logattr.KeyURL, url), logattr.Err(err))
}

// setURL records the server nc is connected to, its credentials
// redacted.
func (b *Broker) setURL(nc *nats.Conn) {
	u := nc.ConnectedUrlRedacted()
	b.url.Store(&u)
}

// logReconnected logs the connection back, at Info. nats.go's goroutine.
func (b *Broker) logReconnected(url string) {
	b.log.LogAttrs(context.Background(), slog.LevelInfo, "nats: reconnected", slog.String(logattr.KeyURL, url))
}

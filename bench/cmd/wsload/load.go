package main

import (
	"github.com/volley-ws/volley/bench/internal/hist"

	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Phases of a load run. Connections move on when they see the new value.
const (
	phaseWarmup  int32 = iota // traffic flows, nothing is recorded
	phaseMeasure              // latencies recorded, counters snapshot at both ends
	phaseDrain                // no new messages: wait for the echoes in flight, then close
	phaseStop                 // give up on whatever is left
)

// load is what every connection of a run shares.
type load struct {
	cfg   *config
	base  time.Time
	phase atomic.Int32

	connErrs atomic.Uint64 // connections that failed (read/write error, protocol error, unexpected close)
	lost     atomic.Uint64 // messages never echoed by the end of the drain
	closedOK atomic.Uint64 // connections closed cleanly after the drain
	closeTO  atomic.Uint64 // connections whose close frame the server never answered

	logMu  sync.Mutex
	logged int
}

// now is monotonic nanoseconds since the run started.
func (l *load) now() int64 { return int64(time.Since(l.base)) }

// logf prints the first few connection errors to stderr.
func (l *load) logf(format string, args ...any) {
	l.logMu.Lock()
	defer l.logMu.Unlock()
	l.logged++
	if l.logged <= 10 {
		fmt.Fprintf(os.Stderr, "wsload: "+format+"\n", args...)
	} else if l.logged == 11 {
		fmt.Fprintln(os.Stderr, "wsload: (further connection errors not shown)")
	}
}

// engine drives the connections of a load run.
type engine interface {
	start()
	// drainStarted tells connections with nothing in flight to close now.
	drainStarted()
	// wait returns when every connection has finished (or phaseStop).
	wait()
	// totals returns messages echoed and mismatched messages so far; safe
	// from any goroutine.
	totals() (msgs, mismatch uint64)
	// histogram merges the latency histograms (after wait).
	histogram() *hist.Histogram
}

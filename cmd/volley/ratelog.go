package main

import (
	"fmt"
	"log"
	"sync"
	"time"
)

// rateLogEvery is the shortest time between two lines of a rateLog.
const rateLogEvery = 10 * time.Second

// rateLog logs at most a line every rateLogEvery, counting the lines it
// leaves out, so that a NATS server that is down does not flood the log
// with a line per message. Its zero value logs with log.Print. Safe for
// concurrent use; printf waits on nothing but a short lock and, once per
// rateLogEvery, the log's output.
type rateLog struct {
	out     func(string) // nil: log.Print
	mu      sync.Mutex
	last    time.Time
	skipped int
}

// printf logs a line formatted as fmt.Sprintf does, unless the last one
// was logged less than rateLogEvery ago.
func (l *rateLog) printf(format string, args ...any) {
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
	msg := fmt.Sprintf(format, args...)
	if skipped > 0 {
		msg += fmt.Sprintf(" (and %d more since the last line)", skipped)
	}
	if l.out != nil {
		l.out(msg)
	} else {
		log.Print(msg)
	}
}

package interop

import (
	"fmt"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestMain fails the run when the tests leave goroutines behind: a server
// whose Shutdown leaves event loops or handler goroutines, a connection
// nobody closed, a client library's reader or a process watcher a test
// forgot. It is a copy, cut to what this package needs, of the check the
// volley module's own tests run (its internal/leakcheck, which another
// module cannot import).
func TestMain(m *testing.M) {
	before := goroutineIDs()
	code := m.Run()
	if leaked := leakedGoroutines(before, leakWait); len(leaked) > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: %d goroutine(s) still running after the tests:\n\n%s\n",
			len(leaked), strings.Join(leaked, "\n\n"))
		code = 1
	}
	os.Exit(code)
}

// leakWait is how long TestMain gives leftover goroutines to finish.
const leakWait = 5 * time.Second

// leakIgnored are substrings of stacks of background goroutines that are
// not leaks: the runtime's and the standard library's own.
var leakIgnored = []string{
	"os/signal.signal_recv",
	"os/signal.loop",
	"runtime.ensureSigM",
	"runtime/trace.",
	"testing.(*M).",
	"testing.runFuzzing",
	"testing/internal/testdeps.",
}

// goroutineIDs returns the ids of the goroutines running now.
func goroutineIDs() map[int64]bool {
	ids := make(map[int64]bool)
	for _, s := range goroutineStacks() {
		ids[goroutineID(s)] = true
	}
	return ids
}

// leakedGoroutines polls, for up to wait, for goroutines that were not in
// before, are not the caller and are not known background goroutines. It
// returns their stacks, or nil once there are none.
func leakedGoroutines(before map[int64]bool, wait time.Duration) []string {
	buf := make([]byte, 64)
	self := goroutineID(string(buf[:runtime.Stack(buf, false)]))
	deadline := time.Now().Add(wait)
	for {
		// Idle keep-alive connections of net/http's default client belong
		// to the client, not to whatever it talked to.
		http.DefaultTransport.(*http.Transport).CloseIdleConnections()
		var leaked []string
	stacks:
		for _, s := range goroutineStacks() {
			if id := goroutineID(s); id == self || before[id] {
				continue
			}
			for _, ig := range leakIgnored {
				if strings.Contains(s, ig) {
					continue stacks
				}
			}
			leaked = append(leaked, s)
		}
		if len(leaked) == 0 || time.Now().After(deadline) {
			return leaked
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// goroutineStacks returns the stack of every goroutine, one block each.
func goroutineStacks() []string {
	buf := make([]byte, 1<<16)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	return strings.Split(strings.TrimSpace(string(buf)), "\n\n")
}

// goroutineID parses the id from a stack block ("goroutine 12 [...]:").
func goroutineID(stack string) int64 {
	s := strings.TrimPrefix(stack, "goroutine ")
	if i := strings.IndexByte(s, ' '); i > 0 {
		if n, err := strconv.ParseInt(s[:i], 10, 64); err == nil {
			return n
		}
	}
	return -1
}

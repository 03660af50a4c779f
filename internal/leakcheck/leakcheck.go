// Package leakcheck finds goroutines a test run left behind. Test packages
// call Main from their TestMain.
package leakcheck

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

// Wait is how long Main gives leftover goroutines to finish.
const Wait = 5 * time.Second

// ignored are substrings of stacks of background goroutines that are not
// leaks: the runtime's, the standard library's and gnet's own.
var ignored = []string{
	"os/signal.signal_recv",
	"os/signal.loop",
	"runtime.ensureSigM",
	"runtime/trace.",
	"testing.(*M).",
	"testing.runFuzzing",
	"testing/internal/testdeps.",
	// gnet's shared worker pool (package-level, started before the tests)
	// keeps the worker that ran an EventLoop.Enroll idle for up to 10s.
	"github.com/panjf2000/ants/v2.(*goWorker).run",
}

// Main runs the tests and then fails the run (exit code 1) when goroutines
// started during the tests are still alive after Wait: a server whose
// Shutdown leaves event loops or handler goroutines behind, a connection
// nobody closed, a client or process watcher a test forgot. Goroutines that
// existed before the tests (package initialisation, e.g. gnet's worker
// pool) and the runtime's own background goroutines are not counted. It
// does not return.
func Main(m *testing.M) {
	before := IDs()
	code := m.Run()
	if leaked := Leaked(before, Wait); len(leaked) > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: %d goroutine(s) still running after the tests:\n\n%s\n",
			len(leaked), strings.Join(leaked, "\n\n"))
		code = 1
	}
	os.Exit(code)
}

// IDs returns the ids of the goroutines running now.
func IDs() map[int64]bool {
	ids := make(map[int64]bool)
	for _, s := range stacks() {
		ids[id(s)] = true
	}
	return ids
}

// Leaked polls, for up to wait, for goroutines that were not in before, are
// not the caller and are not known background goroutines. It returns their
// stacks, or nil once there are none.
func Leaked(before map[int64]bool, wait time.Duration) []string {
	buf := make([]byte, 64)
	self := id(string(buf[:runtime.Stack(buf, false)]))
	deadline := time.Now().Add(wait)
	for {
		// Idle keep-alive connections of net/http's default client belong
		// to the client, not to whatever it talked to.
		http.DefaultTransport.(*http.Transport).CloseIdleConnections()
		var leaked []string
		for _, s := range stacks() {
			i := id(s)
			if i == self || before[i] || isIgnored(s) {
				continue
			}
			leaked = append(leaked, s)
		}
		if len(leaked) == 0 || time.Now().After(deadline) {
			return leaked
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stacks returns the stack of every goroutine, one block each.
func stacks() []string {
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

// id parses the id from a stack block ("goroutine 12 [...]:").
func id(stack string) int64 {
	s := strings.TrimPrefix(stack, "goroutine ")
	if i := strings.IndexByte(s, ' '); i > 0 {
		if n, err := strconv.ParseInt(s[:i], 10, 64); err == nil {
			return n
		}
	}
	return -1
}

func isIgnored(s string) bool {
	for _, ig := range ignored {
		if strings.Contains(s, ig) {
			return true
		}
	}
	return false
}

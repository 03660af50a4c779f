package engine_test

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestMain runs the package's tests and then fails the run when goroutines
// started during the tests are still alive: a server whose Shutdown leaves
// event loops or handler goroutines behind, a connection nobody closed, a
// client a test forgot. Goroutines that existed before the tests (package
// initialisation, e.g. gnet's worker pool) and the runtime's own background
// goroutines are not counted. Leftovers get up to icLeakWait to finish.
func TestMain(m *testing.M) {
	before := icGoroutineIDs()
	code := m.Run()
	if leaked := icLeakedGoroutines(before, icLeakWait); len(leaked) > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: %d goroutine(s) still running after the tests:\n\n%s\n",
			len(leaked), strings.Join(leaked, "\n\n"))
		code = 1
	}
	os.Exit(code)
}

// icLeakWait is how long TestMain waits for goroutines to finish.
const icLeakWait = 5 * time.Second

// icIgnoredStacks are substrings of stacks of background goroutines that
// are not leaks: the runtime's and the standard library's own.
var icIgnoredStacks = []string{
	"os/signal.signal_recv",
	"os/signal.loop",
	"runtime.ensureSigM",
	"runtime/trace.",
	"testing.(*M).",
	"testing.runFuzzing",
	"testing/internal/testdeps.",
}

// icGoroutineStacks returns the stack of every goroutine, one block each.
func icGoroutineStacks() []string {
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

// icGoroutineID parses the id from a stack block ("goroutine 12 [...]:").
func icGoroutineID(stack string) int64 {
	s := strings.TrimPrefix(stack, "goroutine ")
	if i := strings.IndexByte(s, ' '); i > 0 {
		if id, err := strconv.ParseInt(s[:i], 10, 64); err == nil {
			return id
		}
	}
	return -1
}

// icGoroutineIDs returns the ids of the goroutines running now.
func icGoroutineIDs() map[int64]bool {
	ids := make(map[int64]bool)
	for _, s := range icGoroutineStacks() {
		ids[icGoroutineID(s)] = true
	}
	return ids
}

// icCurrentGoroutineID returns the calling goroutine's id.
func icCurrentGoroutineID() int64 {
	buf := make([]byte, 64)
	return icGoroutineID(string(buf[:runtime.Stack(buf, false)]))
}

// icLeakedGoroutines polls, for up to wait, for goroutines that were not in
// before, are not the caller and are not known background goroutines. It
// returns their stacks, or nil once there are none.
func icLeakedGoroutines(before map[int64]bool, wait time.Duration) []string {
	self := icCurrentGoroutineID()
	deadline := time.Now().Add(wait)
	for {
		// Idle keep-alive connections of net/http's default client belong
		// to the client, not to whatever it talked to.
		http.DefaultTransport.(*http.Transport).CloseIdleConnections()
		var leaked []string
		for _, s := range icGoroutineStacks() {
			id := icGoroutineID(s)
			if id == self || before[id] || icIgnoredStack(s) {
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

func icIgnoredStack(s string) bool {
	for _, ig := range icIgnoredStacks {
		if strings.Contains(s, ig) {
			return true
		}
	}
	return false
}

// TestLeakCheckerSeesGoroutines checks the leak checker itself: a goroutine
// started after the baseline is reported until it ends, then no longer.
func TestLeakCheckerSeesGoroutines(t *testing.T) {
	before := icGoroutineIDs()
	stop := make(chan struct{})
	started := make(chan struct{})
	go func() {
		close(started)
		<-stop
	}()
	<-started
	leaked := icLeakedGoroutines(before, 0)
	found := false
	for _, s := range leaked {
		if strings.Contains(s, "TestLeakCheckerSeesGoroutines") {
			found = true
		}
	}
	close(stop)
	if !found {
		t.Fatalf("a running goroutine was not reported; reported:\n%s", strings.Join(leaked, "\n\n"))
	}
	var buf bytes.Buffer
	for _, s := range icLeakedGoroutines(before, 2*time.Second) {
		if strings.Contains(s, "TestLeakCheckerSeesGoroutines") {
			buf.WriteString(s)
		}
	}
	if buf.Len() > 0 {
		t.Fatalf("an ended goroutine is still reported:\n%s", buf.String())
	}
}

package leakcheck

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestMain(m *testing.M) { Main(m) }

// TestLeakedSeesGoroutines: a goroutine started after the baseline is
// reported until it ends, then no longer.
func TestLeakedSeesGoroutines(t *testing.T) {
	before := IDs()
	stop := make(chan struct{})
	started := make(chan struct{})
	go func() {
		close(started)
		<-stop
	}()
	<-started
	leaked := Leaked(before, 0)
	found := false
	for _, s := range leaked {
		if strings.Contains(s, "TestLeakedSeesGoroutines") {
			found = true
		}
	}
	close(stop)
	if !found {
		t.Fatalf("a running goroutine was not reported; reported:\n%s", strings.Join(leaked, "\n\n"))
	}
	var buf bytes.Buffer
	for _, s := range Leaked(before, 2*time.Second) {
		if strings.Contains(s, "TestLeakedSeesGoroutines") {
			buf.WriteString(s)
		}
	}
	if buf.Len() > 0 {
		t.Fatalf("an ended goroutine is still reported:\n%s", buf.String())
	}
}

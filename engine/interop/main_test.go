package interop

import (
	"testing"

	"github.com/volley-ws/volley/internal/leakcheck"
)

// TestMain fails the run when the tests leave goroutines behind: a server
// whose Shutdown leaves event loops or handler goroutines, a connection
// nobody closed, a client library's reader or a process watcher a test
// forgot (the check the volley module's own tests run).
func TestMain(m *testing.M) { leakcheck.Main(m) }

package engine_test

import (
	"testing"

	"github.com/volley-ws/volley/internal/leakcheck"
)

// TestMain fails the run when the tests leave goroutines behind: a server
// whose Shutdown leaves event loops or handler goroutines, a connection
// nobody closed, a client a test forgot (see internal/leakcheck).
func TestMain(m *testing.M) { leakcheck.Main(m) }

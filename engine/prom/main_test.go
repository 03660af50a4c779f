package prom

import (
	"testing"

	"github.com/volley-ws/volley/internal/leakcheck"
)

// TestMain fails the run when the tests leave goroutines behind.
func TestMain(m *testing.M) { leakcheck.Main(m) }

package natsbroker

import (
	"testing"

	"github.com/volley-ws/volley/internal/leakcheck"
)

// TestMain fails the run when the tests leave goroutines behind: a broker
// whose Close leaves its goroutines, a nats.go connection or an embedded
// nats-server nobody closed, a volley server not shut down (see
// internal/leakcheck).
func TestMain(m *testing.M) { leakcheck.Main(m) }

// Package examplerun runs an example program's server for its test.
package examplerun

import (
	"context"
	"net"
	"testing"
)

// Start calls run on an ephemeral loopback port on a goroutine of its
// own, waits until run reports its address through ready, and returns
// that address. When the test ends it cancels run's context and fails the
// test if run returns an error; it fails the test at once if run returns
// before it is ready.
func Start(t *testing.T, run func(ctx context.Context, addr string, ready func(net.Addr)) error) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addrs := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() { done <- run(ctx, "127.0.0.1:0", func(a net.Addr) { addrs <- a }) }()
	select {
	case a := <-addrs:
		t.Cleanup(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("run: %v", err)
			}
		})
		return a.String()
	case err := <-done:
		cancel()
		t.Fatalf("run: %v", err)
		return ""
	}
}

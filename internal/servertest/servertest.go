// Package servertest holds what the engine's tests and the interop tests
// (a module of their own) share on the server side: a server on a free
// port, bounded waits, test payloads and checks of how the server ends a
// connection.
package servertest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"math/rand"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/volley-ws/volley/conn"
	"github.com/volley-ws/volley/engine"
)

// Timeout bounds every single wait of the tests.
const Timeout = 5 * time.Second

// Log collects what a server logs. Safe for concurrent use.
type Log struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *Log) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *Log) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// Server is a started server, its address and what it logged.
type Server struct {
	*engine.Server
	Addr string
	Log  *Log
}

// Start starts a server on a free 127.0.0.1 port with cfg (Addr,
// EventLoops and Logger defaulted), after setup registered its routes.
// The server is shut down when the test ends; a failing Shutdown fails the
// test, and a failed test shows the server's log.
func Start(t testing.TB, cfg engine.Config, setup func(*engine.Server)) *Server {
	t.Helper()
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.EventLoops == 0 {
		cfg.EventLoops = 2
	}
	lg := &Log{}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(lg, nil))
	}
	srv := engine.New(cfg)
	setup(srv)
	if err := srv.Start(); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), Timeout)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if t.Failed() {
			t.Logf("the server's log:\n%s", lg)
		}
	})
	addr := "" // a server with Config.BridgeOnly listens nowhere
	if a := srv.Addr(); a != nil {
		addr = a.String()
	}
	return &Server{Server: srv, Addr: addr, Log: lg}
}

// Recv waits up to d for a value from ch, and fails the test after that.
func Recv[T any](t testing.TB, ch <-chan T, d time.Duration, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(d):
		t.Fatalf("timed out after %v waiting for %s", d, what)
		panic("unreachable")
	}
}

// Payload returns n bytes of test data from seed: random bytes for
// Binary, valid UTF-8 mixing 1- to 4-byte characters for Text.
func Payload(typ conn.MessageType, n int, seed int64) []byte {
	rng := rand.New(rand.NewSource(seed))
	p := make([]byte, 0, n)
	if typ == conn.Binary {
		p = p[:n]
		rng.Read(p)
		return p
	}
	runes := []string{"a", "Z", "é", "ж", "€", "語", "😀", "\x00", "~"}
	for len(p) < n {
		r := runes[rng.Intn(len(runes))]
		if len(p)+len(r) > n {
			r = "x"
		}
		p = append(p, r...)
	}
	return p
}

// ExpectEOF checks that the server ends the TCP connection cleanly:
// reading r (c when nil) returns EOF, not a reset, within Timeout, with no
// more data.
func ExpectEOF(t testing.TB, c net.Conn, r io.Reader) {
	t.Helper()
	if r == nil {
		r = c
	}
	_ = c.SetReadDeadline(time.Now().Add(Timeout))
	n, err := io.Copy(io.Discard, r)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("the server did not close the TCP connection within %v", Timeout)
		}
		t.Fatalf("the connection ended with %v, want EOF", err)
	}
	if n != 0 {
		t.Fatalf("%d unexpected bytes before the end of the connection", n)
	}
}

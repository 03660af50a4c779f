package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/volley-ws/volley/cmd/examples/internal/examplerun"
	"github.com/volley-ws/volley/internal/leakcheck"
	"github.com/volley-ws/volley/internal/wsclient"
)

// TestMain fails the run when a test leaves goroutines behind: a server
// run did not shut down, or a client nobody closed.
func TestMain(m *testing.M) { leakcheck.Main(m) }

// start runs the example on an ephemeral loopback port with the token
// "s3cret" until the test ends, and returns its address.
func start(t *testing.T) string {
	t.Helper()
	return examplerun.Start(t, func(ctx context.Context, addr string, ready func(net.Addr)) error {
		return run(ctx, addr, "s3cret", ready)
	})
}

// TestBridge: the page is net/http's, the middleware refuses a handshake
// without the token with 401, and with it the echo runs on volley's loops.
func TestBridge(t *testing.T) {
	addr := start(t)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()

	resp, err := http.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || len(body) == 0 {
		t.Fatalf("GET /: %d %q", resp.StatusCode, body)
	}

	c, r, err := wsclient.Dial(ctx, "ws://"+addr+"/ws/echo", nil)
	if err == nil {
		c.CloseNow()
		t.Fatal("a handshake without the token was accepted")
	}
	if r == nil || r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("without the token: %+v (%v), want 401", r, err)
	}

	c, _, err = wsclient.Dial(ctx, "ws://"+addr+"/ws/echo?token=s3cret", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	for _, m := range []struct {
		typ  wsclient.MessageType
		data string
	}{{wsclient.Text, "hello"}, {wsclient.Binary, "\x00\x01\x02"}} {
		if err := c.Send(m.typ, []byte(m.data)); err != nil {
			t.Fatal(err)
		}
		typ, got, err := c.Receive(ctx)
		if err != nil || typ != m.typ || string(got) != m.data {
			t.Fatalf("echo: %v %q (%v), want %v %q", typ, got, err, m.typ, m.data)
		}
	}
	if err := c.Close(1000, ""); err != nil {
		t.Error(err)
	}
}

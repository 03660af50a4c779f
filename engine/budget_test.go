package engine_test

import (
	"bytes"
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/volley-ws/volley/engine"
	"github.com/volley-ws/volley/internal/wstest"
	"github.com/volley-ws/volley/upgrade"
)

// TestBudgetReturnsToZero: the memory budget counts bytes as connections
// take and release them. After hostile clients of every kind have come
// and gone (floods whose echoes are never read, ping floods, a blocking
// handler that is slow to Receive, pipelined HTTP requests, bombs, frames
// cut off half way), under the budget and far over it, no connection is
// left and the count is back at zero: a server that runs for months
// never refuses work for bytes nobody holds.
func TestBudgetReturnsToZero(t *testing.T) {
	for _, tc := range []struct {
		name   string
		budget int64
	}{
		{"under", 1 << 30},
		{"over", 1 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := hsConfig()
			cfg.Addr = "127.0.0.1:0"
			cfg.EventLoops = 2
			cfg.MaxMessageSize = 64 << 10
			cfg.MaxBufferedBytes = tc.budget
			cfg.Upgrade.Compression.Enabled = true
			srv := engine.New(cfg)
			srv.HandleFunc(cfBlockingPath, cfEcho)
			srv.HandleEvents(cfEventsPath, cfEventEcho{})
			srv.HandleFunc("/slow", slowReceiver)
			if err := srv.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				_ = srv.Shutdown(ctx)
			})
			addr := srv.Addr().String()
			budgetHostiles(t, addr)
			deadline := time.Now().Add(10 * time.Second)
			for (engine.Conns(srv) != 0 || engine.Buffered(srv) != 0) && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
			if n, b := engine.Conns(srv), engine.Buffered(srv); n != 0 || b != 0 {
				t.Fatalf("after every client left: %d connections open, %d bytes counted against the budget", n, b)
			}
			// The server is not stuck refusing work.
			c := wstest.Dial(t, addr, cfEventsPath)
			c.WriteFrame(true, 0, wstest.OpText, []byte("still here"), true)
			if op, p := c.ReadMessage(); op != wstest.OpText || string(p) != "still here" {
				t.Fatalf("echo after the hostile clients: op %d %q", op, p)
			}
		})
	}
}

// slowReceiver is a blocking handler that lets messages queue for a while
// before it echoes them.
func slowReceiver(ctx *upgrade.Context) {
	up := ctx.Upgrader()
	if up == nil {
		ctx.SetStatusCode(400)
		return
	}
	ws, err := up.Upgrade()
	if err != nil {
		return
	}
	time.Sleep(500 * time.Millisecond)
	for {
		msg, err := ws.Receive()
		if err != nil {
			return
		}
		if ws.Send(msg.Type, msg.Data) != nil {
			return
		}
	}
}

// budgetHostiles runs every kind of hostile client against addr at once,
// for about a second and a half each, then closes them all.
func budgetHostiles(t *testing.T, addr string) {
	t.Helper()
	const flood = 1500 * time.Millisecond
	msgs := bytes.Repeat(wstest.AppendFrame(nil, true, 0, wstest.OpBinary, bytes.Repeat([]byte("m"), 4096), true), 16)
	pings := bytes.Repeat(wstest.AppendFrame(nil, true, 0, wstest.OpPing, bytes.Repeat([]byte("p"), 125), true), 64)
	bomb := wstest.AppendFrame(nil, true, wstest.RSV1, wstest.OpBinary, hsBomb(1<<20), true)
	half := wstest.AppendFrame(nil, true, 0, wstest.OpBinary, bytes.Repeat([]byte("h"), 8000), true)
	half = half[:len(half)/2]
	deflate := "permessage-deflate; client_no_context_takeover; server_no_context_takeover"

	// Every client connects first: once the floods start, a server over
	// its budget answers handshakes with 503.
	var clients []func()
	add := func(fn func()) { clients = append(clients, fn) }
	for _, path := range []string{cfBlockingPath, cfEventsPath, "/slow"} {
		for range 4 {
			c := wstest.Dial(t, addr, path)
			add(func() { defer c.Close(); hsFlood(c.NetConn(), msgs, flood) })
		}
		c := wstest.Dial(t, addr, path)
		add(func() { defer c.Close(); hsFlood(c.NetConn(), pings, flood) })
		h := wstest.Dial(t, addr, path)
		add(func() { defer h.Close(); h.WriteRaw(half); time.Sleep(flood) })
	}
	for _, path := range []string{cfBlockingPath, cfEventsPath} {
		for range 3 {
			c, _ := wstest.DialExtensions(t, addr, path, deflate)
			add(func() { defer c.Close(); hsFlood(c.NetConn(), bomb, flood) })
		}
	}
	req := []byte(strings.Repeat("GET /nope HTTP/1.1\r\nHost: x\r\n\r\n", 256))
	for range 2 {
		nc, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		add(func() { defer nc.Close(); hsFlood(nc, req, flood) })
	}
	var wg sync.WaitGroup
	for _, fn := range clients {
		wg.Go(fn)
	}
	wg.Wait()
}

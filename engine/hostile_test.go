package engine_test

import (
	"bufio"
	"bytes"
	"compress/flate"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/volley-ws/volley/engine"
	"github.com/volley-ws/volley/internal/wstest"
	"github.com/volley-ws/volley/upgrade"
)

// Hostile clients: no single client can grow the server's memory past its
// limits, and no failed connection outlives its timeouts. Each test runs a
// client that floods without reading (or worse) against a server with
// small limits, samples the process's heap while it runs, and checks that
// the growth stays under what the limits allow and that the server ends
// the connection in time. Every client is bounded in count and time.

// hsConfig is the server configuration of the hostile tests: small limits,
// short timeouts.
func hsConfig() engine.Config {
	return engine.Config{
		MaxMessageSize: 16 << 10,
		MaxUnsentBytes: 64 << 10,
		MaxUnreadBytes: 256 << 10,
		WriteTimeout:   500 * time.Millisecond,
		CloseTimeout:   300 * time.Millisecond,
	}
}

// hsSlack is heap growth that is not the connections': the test's own
// buffers, gnet's per-loop buffers, the garbage collector's lag.
const hsSlack = 24 << 20

// hsHeap samples the heap in use every 10ms while fn runs and returns how
// far it grew over the heap in use before fn, at its peak.
func hsHeap(t *testing.T, fn func()) (growth int64) {
	t.Helper()
	// Collect often, so that the heap in use follows what is live rather
	// than the collector's lag.
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := int64(ms.HeapInuse)
	var peak atomic.Int64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			if h := int64(m.HeapInuse); h > peak.Load() {
				peak.Store(h)
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	fn()
	close(stop)
	<-done
	return peak.Load() - base
}

// hsFlood writes b over and over to c, never reading, until d passes or
// the server ends the connection; it returns how many bytes it wrote and
// whether the server ended the connection.
func hsFlood(c net.Conn, b []byte, d time.Duration) (written int64, ended bool) {
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		_ = c.SetWriteDeadline(time.Now().Add(50 * time.Millisecond))
		n, err := c.Write(b)
		written += int64(n)
		var ne net.Error
		if err != nil && !(errors.As(err, &ne) && ne.Timeout()) {
			return written, true
		}
	}
	return written, false
}

// hsEnded reports whether the server ended c within d: a read returns EOF
// or a reset, whatever bytes come before.
func hsEnded(c net.Conn, d time.Duration) bool {
	_ = c.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	return err == nil || !(errors.As(err, &ne) && ne.Timeout())
}

// TestHostilePingFlood: a client that pings as fast as it can and never
// reads. Pongs count against MaxUnsentBytes (and are coalesced while the
// peer is behind): the server stops parsing, and the connection ends once
// its unparsed input passes MaxUnreadBytes or after WriteTimeout.
func TestHostilePingFlood(t *testing.T) {
	cfg := hsConfig()
	addr := cfStart(t, cfg)
	ping := bytes.Repeat(wstest.AppendFrame(nil, true, 0, wstest.OpPing, bytes.Repeat([]byte("p"), 125), true), 256)
	for _, path := range []string{cfBlockingPath, cfEventsPath} {
		t.Run(path[1:], func(t *testing.T) {
			c := wstest.Dial(t, addr, path)
			var written int64
			var ended bool
			growth := hsHeap(t, func() {
				written, ended = hsFlood(c.NetConn(), ping, 2*time.Second)
				if !ended {
					ended = hsEnded(c.NetConn(), 2*time.Second)
				}
			})
			t.Logf("%d MiB of pings written; heap growth %d KiB", written>>20, growth>>10)
			if bound := int64(cfg.MaxUnsentBytes+cfg.MaxUnreadBytes) + hsSlack; growth > bound {
				t.Errorf("heap grew by %d KiB under a ping flood, over %d KiB", growth>>10, bound>>10)
			}
			if !ended {
				t.Error("the server did not end the connection of a client that pings without reading")
			}
		})
	}
}

// TestHostilePipeline: one keep-alive connection pipelining requests for
// an unknown path without reading the 404s. The answers count against
// MaxUnsentBytes: the server stops reading requests, and ends the
// connection when the unparsed ones pass the largest request it accepts.
func TestHostilePipeline(t *testing.T) {
	cfg := hsConfig()
	addr := cfStart(t, cfg)
	req := bytes.Repeat([]byte("GET /nope HTTP/1.1\r\nHost: x\r\n\r\n"), 1024)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var written int64
	var ended bool
	growth := hsHeap(t, func() {
		written, ended = hsFlood(c, req, 2*time.Second)
		if !ended {
			ended = hsEnded(c, 2*time.Second)
		}
	})
	t.Logf("%d KiB of requests written; heap growth %d KiB", written>>10, growth>>10)
	if bound := int64(cfg.MaxUnsentBytes+engine.DefaultMaxHandshakeBytes+engine.DefaultMaxRequestBody) + hsSlack; growth > bound {
		t.Errorf("heap grew by %d KiB under pipelined requests, over %d KiB", growth>>10, bound>>10)
	}
	if !ended {
		t.Error("the server did not end a connection pipelining requests without reading the answers")
	}
}

// TestHostileNoRead: clients that send messages to an echo and never read
// the echoes. Each connection holds at most MaxUnsentBytes of echoes and
// MaxUnreadBytes of input; each is ended after WriteTimeout.
func TestHostileNoRead(t *testing.T) {
	const conns = 20
	cfg := hsConfig()
	addr := cfStart(t, cfg)
	msg := bytes.Repeat(wstest.AppendFrame(nil, true, 0, wstest.OpBinary, bytes.Repeat([]byte("m"), 4096), true), 16)
	for _, path := range []string{cfBlockingPath, cfEventsPath} {
		t.Run(path[1:], func(t *testing.T) {
			cs := make([]*wstest.Conn, conns)
			for i := range cs {
				cs[i] = wstest.Dial(t, addr, path)
			}
			var endedCount atomic.Int32
			growth := hsHeap(t, func() {
				var wg sync.WaitGroup
				for _, c := range cs {
					wg.Go(func() {
						_, ended := hsFlood(c.NetConn(), msg, 1500*time.Millisecond)
						if ended || hsEnded(c.NetConn(), 2*time.Second) {
							endedCount.Add(1)
						}
					})
				}
				wg.Wait()
			})
			t.Logf("heap growth %d KiB for %d connections", growth>>10, conns)
			if bound := conns*(int64(cfg.MaxUnsentBytes+cfg.MaxUnreadBytes)+cfg.MaxMessageSize) + hsSlack; growth > bound {
				t.Errorf("heap grew by %d KiB, over %d KiB", growth>>10, bound>>10)
			}
			if n := endedCount.Load(); n != conns {
				t.Errorf("%d of %d non-reading connections ended", n, conns)
			}
		})
	}
}

// TestHostileFailNoRead: a client makes the server queue output it never
// reads, then sends a frame that fails the connection. The close frame
// waits behind that output, but the connection is gone within
// CloseTimeout plus WriteTimeout whatever the peer does.
func TestHostileFailNoRead(t *testing.T) {
	cfg := hsConfig()
	addr := cfStart(t, cfg)
	msg := bytes.Repeat(wstest.AppendFrame(nil, true, 0, wstest.OpBinary, bytes.Repeat([]byte("m"), 8192), true), 8)
	bad := wstest.AppendFrame(nil, true, 0x2, wstest.OpText, []byte("x"), true)
	bound := cfg.CloseTimeout + cfg.WriteTimeout + 500*time.Millisecond // the ticker's granularity and the test's
	for _, path := range []string{cfBlockingPath, cfEventsPath} {
		t.Run(path[1:], func(t *testing.T) {
			c := wstest.Dial(t, addr, path)
			nc := c.NetConn()
			if err := nc.(*net.TCPConn).SetReadBuffer(4096); err != nil {
				t.Fatal(err)
			}
			// Enough echoes to fill the socket buffers and the server's queue.
			for range 16 {
				_ = nc.SetWriteDeadline(time.Now().Add(time.Second))
				if _, err := nc.Write(msg); err != nil {
					t.Fatalf("write: %v", err)
				}
			}
			time.Sleep(100 * time.Millisecond)
			_ = nc.SetWriteDeadline(time.Now().Add(time.Second))
			start := time.Now()
			if _, err := nc.Write(bad); err != nil {
				t.Fatalf("write the failing frame: %v", err)
			}
			// Still not reading: watch the socket for the server's end
			// without taking its output (a peek of the TCP state: a read
			// would drain the queue).
			if !hsWaitClosed(t, nc, bound) {
				t.Fatalf("the failed connection was still open %v after the failing frame (bound %v)", time.Since(start), bound)
			}
			t.Logf("closed %v after the failing frame", time.Since(start).Round(time.Millisecond))
		})
	}
}

// hsWaitClosed waits, without reading, until the server has ended c (the
// kernel reports the peer's FIN or reset), at most d.
func hsWaitClosed(t *testing.T, c net.Conn, d time.Duration) bool {
	t.Helper()
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		if hsPeerGone(c) {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return hsPeerGone(c)
}

// TestHostileBudget: many connections flood without reading, against a
// server whose memory budget is far below what their per-connection
// limits add up to. The server answers new handshakes with 503 while over
// budget, closes the largest holders (close 1013, then TCP), and its heap
// stays near the budget.
func TestHostileBudget(t *testing.T) {
	const conns = 40
	cfg := hsConfig()
	cfg.MaxBufferedBytes = 2 << 20
	cfg.WriteTimeout = 10 * time.Second // the budget, not the write timeout, must end them
	addr := cfStart(t, cfg)
	msg := bytes.Repeat(wstest.AppendFrame(nil, true, 0, wstest.OpBinary, bytes.Repeat([]byte("m"), 4096), true), 16)
	cs := make([]*wstest.Conn, conns)
	for i := range cs {
		path := cfBlockingPath
		if i%2 == 1 {
			path = cfEventsPath
		}
		cs[i] = wstest.Dial(t, addr, path)
	}
	var ended atomic.Int32
	growth := hsHeap(t, func() {
		var wg sync.WaitGroup
		for _, c := range cs {
			wg.Go(func() {
				if _, e := hsFlood(c.NetConn(), msg, 4*time.Second); e {
					ended.Add(1)
				}
			})
		}
		wg.Wait()
	})
	t.Logf("heap growth %d KiB; %d of %d connections ended by the server", growth>>10, ended.Load(), conns)
	if ended.Load() == 0 {
		t.Error("the server ended no connection while over its budget")
	}
	if bound := 4*cfg.MaxBufferedBytes + hsSlack; growth > bound {
		t.Errorf("heap grew by %d KiB, over %d KiB for a %d KiB budget", growth>>10, bound>>10, cfg.MaxBufferedBytes>>10)
	}
}

// TestHostileBudgetRefuses: clients that each stay inside their own
// limits but together hold more than the server's budget (messages a
// blocking handler never receives), and then wait. While the server is
// over its budget it answers new handshakes with 503; after budgetGrace it
// closes the largest holders with 1013 until it is back under 90%, and
// then accepts handshakes again.
func TestHostileBudgetRefuses(t *testing.T) {
	const (
		conns = 16
		each  = 192 << 10 // under MaxUnreadBytes: no connection breaks its own limit
	)
	cfg := hsConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.EventLoops = 2
	cfg.MaxBufferedBytes = 2 << 20 // conns*each is 3 MiB
	cfg.WriteTimeout = 10 * time.Second
	logger, lg := lgLogger(slog.LevelInfo)
	cfg.Logger = logger
	srv := engine.New(cfg)
	srv.HandleEvents(cfEventsPath, cfEventEcho{})
	srv.HandleFunc("/hold", func(ctx *upgrade.Context) {
		if up := ctx.Upgrader(); up != nil {
			if ws, err := up.Upgrade(); err == nil {
				<-ws.Done() // never Receive: every message stays counted
			}
		}
	})
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if n := engine.Buffered(srv); n != 0 {
			t.Errorf("%d bytes still counted against the budget after shutdown", n)
		}
	})
	addr := srv.Addr().String()
	msg := bytes.Repeat(wstest.AppendFrame(nil, true, 0, wstest.OpBinary, bytes.Repeat([]byte("m"), 4096), true), each/4096)
	cs := make([]*wstest.Conn, conns)
	for i := range cs {
		cs[i] = wstest.Dial(t, addr, "/hold")
		cs[i].WriteRaw(msg)
	}
	// Over the budget: a new handshake is refused with 503, for as long as
	// the grace lasts, since no client sends anything more.
	refused := false
	for deadline := time.Now().Add(10 * time.Second); !refused && time.Now().Before(deadline); {
		refused = hsHandshakeStatus(t, addr, cfEventsPath) == 503
		if !refused {
			time.Sleep(20 * time.Millisecond)
		}
	}
	if !refused {
		t.Fatalf("no handshake was refused with 503 while the server held %d bytes for a budget of %d", engine.Buffered(srv), cfg.MaxBufferedBytes)
	}
	// After the grace, the largest holders get 1013 and their TCP ends;
	// the others keep their connection.
	var tryAgain atomic.Int32
	var wg sync.WaitGroup
	for _, c := range cs {
		wg.Go(func() {
			_ = c.NetConn().SetReadDeadline(time.Now().Add(10 * time.Second))
			if f, err := c.ReadFrame(); err == nil && f.Opcode == wstest.OpClose && f.CloseCode() == 1013 {
				tryAgain.Add(1)
			}
		})
	}
	wg.Wait()
	if n := tryAgain.Load(); n == 0 || n == conns {
		t.Errorf("%d of %d connections closed with 1013; want the largest holders, until the server is under its budget", n, conns)
	}
	// Back under 90% of the budget: handshakes are accepted again.
	status := 0
	for deadline := time.Now().Add(10 * time.Second); status != 101 && time.Now().Before(deadline); {
		if status = hsHandshakeStatus(t, addr, cfEventsPath); status != 101 {
			time.Sleep(20 * time.Millisecond)
		}
	}
	if status != 101 {
		t.Errorf("handshake answered %d once the server was back under its budget (%d bytes held)", status, engine.Buffered(srv))
	}
	// Logged: going over (Warn), each 1013 (Warn), coming back (Info).
	r := lgAwait(t, lg, "volley: over the memory budget", "level", "WARN")
	if r.num("buffered") <= r.num("budget") || r.num("budget") != float64(cfg.MaxBufferedBytes) {
		t.Errorf("over-budget record %v", r)
	}
	lgAwait(t, lg, "volley: back under the memory budget", "level", "INFO")
	closes := 0
	for _, r := range lgFind(t, lg, "volley: connection closed") {
		if r.str("level") == "WARN" && r.num("code") == 1013 && r.str("api") == "blocking" && r.str("remote") != "" {
			closes++
		}
	}
	if closes < int(tryAgain.Load()) {
		t.Errorf("%d closes with 1013 logged, %d received", closes, tryAgain.Load())
	}
}

// hsHandshakeStatus performs a handshake on path and returns the status of
// the answer.
func hsHandshakeStatus(t *testing.T, addr, path string) int {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return 0
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", path)
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return 0
	}
	var status int
	fmt.Sscanf(line, "HTTP/1.1 %d", &status)
	return status
}

// hsBomb returns the payload of a compressed message (RFC 7692: the final
// empty block's tail removed) that inflates to n zero bytes.
func hsBomb(n int) []byte {
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, flate.BestCompression)
	zeros := make([]byte, 64<<10)
	for n > 0 {
		k := min(n, len(zeros))
		w.Write(zeros[:k])
		n -= k
	}
	w.Flush()
	return bytes.TrimSuffix(b.Bytes(), []byte{0, 0, 0xff, 0xff})
}

// TestHostileBombs: many connections send, at once, a compressed message
// that inflates past MaxMessageSize. Both APIs inflate on the event loops,
// one message at a time per loop, and stop at the limit: each gets 1009,
// and the heap grows by a few limits, not by one per connection.
func TestHostileBombs(t *testing.T) {
	const conns = 30
	cfg := hsConfig()
	cfg.MaxMessageSize = 1 << 20
	cfg.Upgrade.Compression.Enabled = true
	// Time for 30 loaded clients to read their close frame: a peer that
	// leaves it unread past CloseTimeout is reset, which drops it.
	cfg.CloseTimeout = 5 * time.Second
	addr := cfStart(t, cfg)
	bomb := wstest.AppendFrame(nil, true, wstest.RSV1, wstest.OpBinary, hsBomb(64<<20), true)
	for _, path := range []string{cfBlockingPath, cfEventsPath} {
		t.Run(path[1:], func(t *testing.T) {
			cs := make([]*wstest.Conn, conns)
			for i := range cs {
				cs[i], _ = wstest.DialExtensions(t, addr, path, "permessage-deflate; client_no_context_takeover; server_no_context_takeover")
			}
			var closed atomic.Int32
			growth := hsHeap(t, func() {
				var wg sync.WaitGroup
				for _, c := range cs {
					wg.Go(func() {
						_ = c.NetConn().SetWriteDeadline(time.Now().Add(5 * time.Second))
						if _, err := c.NetConn().Write(bomb); err != nil {
							return
						}
						_ = c.NetConn().SetReadDeadline(time.Now().Add(10 * time.Second))
						f, err := c.ReadFrame()
						if err == nil && f.Opcode == wstest.OpClose && f.CloseCode() == 1009 {
							closed.Add(1)
						} else {
							t.Logf("instead of close 1009: %v, %v", f, err)
						}
					})
				}
				wg.Wait()
			})
			t.Logf("heap growth %d KiB for %d bombs of 64 MiB", growth>>10, conns)
			if n := closed.Load(); n != conns {
				t.Errorf("%d of %d bombs answered with close 1009", n, conns)
			}
			// Two loops, each inflating one message at a time into a
			// buffer that grows to the limit.
			if bound := 8*cfg.MaxMessageSize + hsSlack/2; growth > bound {
				t.Errorf("heap grew by %d KiB for %d simultaneous bombs, over %d KiB", growth>>10, conns, bound>>10)
			}
		})
	}
}

// TestHostileIdleHoldsNoMessage: after a compressed message that inflates
// to just under the limit has been echoed, an idle connection holds no
// message buffer: the live heap after a collection is back near where it
// was, for either API.
func TestHostileIdleHoldsNoMessage(t *testing.T) {
	const conns = 20
	cfg := hsConfig()
	cfg.MaxMessageSize = 1 << 20
	cfg.MaxUnsentBytes = 4 << 20
	cfg.Upgrade.Compression.Enabled = true
	addr := cfStart(t, cfg)
	msg := wstest.AppendFrame(nil, true, wstest.RSV1, wstest.OpBinary, hsBomb(int(cfg.MaxMessageSize)-1024), true)
	for _, path := range []string{cfBlockingPath, cfEventsPath} {
		t.Run(path[1:], func(t *testing.T) {
			runtime.GC()
			var before runtime.MemStats
			runtime.ReadMemStats(&before)
			cs := make([]*wstest.Conn, conns)
			for i := range cs {
				cs[i], _ = wstest.DialExtensions(t, addr, path, "permessage-deflate; client_no_context_takeover; server_no_context_takeover")
				cs[i].WriteRaw(msg)
				f, err := cs[i].ReadFrameRSV(wstest.RSV1)
				if err != nil || f.Opcode != wstest.OpBinary {
					t.Fatalf("connection %d: echo %v, %v", i, f, err)
				}
			}
			time.Sleep(100 * time.Millisecond)
			runtime.GC()
			runtime.GC()
			var after runtime.MemStats
			runtime.ReadMemStats(&after)
			per := (int64(after.HeapAlloc) - int64(before.HeapAlloc)) / conns
			t.Logf("live heap per idle connection after a %d KiB message: %d B", cfg.MaxMessageSize>>10, per)
			if per > 64<<10 {
				t.Errorf("an idle connection holds %d KiB of live heap after a large message", per>>10)
			}
		})
	}
}

// TestHalfClose: a client sends a message, or a close frame, and then shuts
// down its write side. Both APIs deliver the message and answer: the echo
// (or the close reply) reaches the client before the TCP connection ends.
func TestHalfClose(t *testing.T) {
	addr := cfStart(t, engine.Config{})
	for _, path := range cfPaths {
		for _, closeFirst := range []bool{false, true} {
			name := path[1:] + "/message"
			if closeFirst {
				name = path[1:] + "/close"
			}
			t.Run(name, func(t *testing.T) {
				for i := range 20 {
					c := wstest.Dial(t, addr, path)
					if closeFirst {
						c.WriteClose(4001, "bye")
					} else {
						c.WriteFrame(true, 0, wstest.OpText, []byte(fmt.Sprint("half ", i)), true)
					}
					if err := c.NetConn().(*net.TCPConn).CloseWrite(); err != nil {
						t.Fatal(err)
					}
					f, err := c.ReadFrame()
					switch {
					case err != nil:
						t.Fatalf("run %d: nothing back after the half-close: %v", i, err)
					case closeFirst && (f.Opcode != wstest.OpClose || f.CloseCode() != 4001):
						t.Fatalf("run %d: got %v, want the close reply 4001", i, f)
					case !closeFirst && (f.Opcode != wstest.OpText || string(f.Payload) != fmt.Sprint("half ", i)):
						t.Fatalf("run %d: got %v, want the echo", i, f)
					}
					c.Close()
				}
			})
		}
	}
}

// TestShutdownEndsHalfClosed: a client sends a message and shuts down its
// write side while its blocking handler is not receiving (the connection
// lives on outside the loops, see afterlife.go). Shutdown does not wait for
// its write and close timeouts: the handler's Done closes, and the server
// stops within a second, with nothing left counted against its budget.
func TestShutdownEndsHalfClosed(t *testing.T) {
	cfg := engine.Config{Addr: "127.0.0.1:0", WriteTimeout: 30 * time.Second, CloseTimeout: 30 * time.Second}
	srv := engine.New(cfg)
	waiting := make(chan struct{}, 4)
	srv.HandleFunc("/hold", func(ctx *upgrade.Context) {
		if up := ctx.Upgrader(); up != nil {
			if ws, err := up.Upgrade(); err == nil {
				waiting <- struct{}{}
				<-ws.Done() // never Receive
			}
		}
	})
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	addr := srv.Addr().String()
	for range 4 {
		c := wstest.Dial(t, addr, "/hold")
		<-waiting
		c.WriteFrame(true, 0, wstest.OpText, []byte("unread"), true)
		if err := c.NetConn().(*net.TCPConn).CloseWrite(); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(100 * time.Millisecond) // the loops see the FINs
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v after %v", err, time.Since(start))
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("shutdown took %v with half-closed connections", d)
	}
	if n := engine.Buffered(srv); n != 0 {
		t.Errorf("%d bytes still counted against the budget after shutdown", n)
	}
}

// TestRefusedHandshakeClosesTCP: a handshake the blocking API refuses is
// answered with its status and Connection: close, and the TCP connection
// ends, as on an event route.
func TestRefusedHandshakeClosesTCP(t *testing.T) {
	addr := cfStart(t, engine.Config{})
	for _, path := range []string{cfBlockingPath, cfEventsPath} {
		t.Run(path[1:], func(t *testing.T) {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(5 * time.Second))
			fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
				"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n", path)
			resp, err := io.ReadAll(c)
			if err != nil {
				t.Fatalf("the server did not end the TCP connection after refusing: %v (read %q)", err, resp)
			}
			if !strings.HasPrefix(string(resp), "HTTP/1.1 426 ") || !strings.Contains(string(resp), "Connection: close\r\n") {
				t.Fatalf("response %q, want 426 with Connection: close", resp)
			}
		})
	}
}

// TestTickerSleepsWhenIdle: with nothing to do, the server's ticker sleeps
// (at most a second at a time) instead of waking every 10ms.
func TestTickerSleepsWhenIdle(t *testing.T) {
	srv := engine.New(engine.Config{Addr: "127.0.0.1:0"})
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown(t.Context())
	time.Sleep(300 * time.Millisecond)
	before := engine.TickerRuns(srv)
	time.Sleep(2 * time.Second)
	if runs := engine.TickerRuns(srv) - before; runs > 4 {
		t.Errorf("the ticker ran %d times in 2s on an idle server, want at most 4", runs)
	}
}

// hsPeerGone reports, from the kernel's TCP state and without reading,
// whether the server has ended c: its FIN arrived (CLOSE_WAIT) or the
// connection was reset.
func hsPeerGone(c net.Conn) bool {
	rc, err := c.(*net.TCPConn).SyscallConn()
	if err != nil {
		return true
	}
	gone := false
	_ = rc.Control(func(fd uintptr) {
		info, err := unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO)
		gone = err != nil || info.State == unix.BPF_TCP_CLOSE_WAIT || info.State == unix.BPF_TCP_CLOSE
	})
	return gone
}

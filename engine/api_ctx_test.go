package engine_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/volley-ws/volley/conn"
	"github.com/volley-ws/volley/engine"
	"github.com/volley-ws/volley/internal/wstest"
	"github.com/volley-ws/volley/upgrade"
)

// cxServe serves fn on /ws, on the handler's goroutine, and returns the
// address and a channel closed when fn returns.
func cxServe(t *testing.T, cfg engine.Config, fn func(ws conn.WebSocket)) (string, <-chan struct{}) {
	t.Helper()
	cfg.Addr = "127.0.0.1:0"
	srv := engine.New(cfg)
	done := make(chan struct{})
	srv.HandleFunc("/ws", func(ctx *upgrade.Context) {
		defer close(done)
		ws, err := ctx.Upgrader().Upgrade()
		if err != nil {
			t.Errorf("Upgrade: %v", err)
			return
		}
		fn(ws)
	})
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	return srv.Addr().String(), done
}

// cxWait waits for ch, at most 5s.
func cxWait(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
}

// TestReceiveContextOnSocket: ReceiveContext returns its context's error,
// consuming nothing, when the context ends first (a deadline, or a
// cancellation while it waits), and the connection goes on: the next call
// gets the next message, whole. ReceiveFrameContext likewise, in the
// middle of nothing and between messages.
func TestReceiveContextOnSocket(t *testing.T) {
	step := make(chan string, 8)
	addr, done := cxServe(t, engine.Config{}, func(ws conn.WebSocket) {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		_, err := ws.ReceiveContext(ctx)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("ReceiveContext past its deadline: %v", err)
		}
		step <- "deadline"

		ctx, cancel = context.WithCancel(context.Background())
		go func() { time.Sleep(50 * time.Millisecond); cancel() }()
		start := time.Now()
		_, err = ws.ReceiveFrameContext(ctx, make([]byte, 4))
		if !errors.Is(err, context.Canceled) || time.Since(start) > time.Second {
			t.Errorf("ReceiveFrameContext cancelled while waiting: %v after %v", err, time.Since(start))
		}
		step <- "cancelled"

		msg, err := ws.ReceiveContext(context.Background())
		if err != nil || string(msg.Data) != "first" {
			t.Errorf("ReceiveContext after the interruptions: %q %v, want first", msg.Data, err)
		}
		buf := make([]byte, 3)
		res, err := ws.ReceiveFrameContext(context.Background(), buf)
		if err != nil || string(buf[:res.Count]) != "sec" || res.EndOfMessage {
			t.Errorf("ReceiveFrameContext: %+v %v", res, err)
		}
		res, err = ws.ReceiveFrame(buf)
		if err != nil || string(buf[:res.Count]) != "ond" || !res.EndOfMessage {
			t.Errorf("ReceiveFrame: %+v %v", res, err)
		}
		_ = ws.SendText("ok")
		msg, err = ws.Receive()
		if err != nil || msg.Type != conn.Close {
			t.Errorf("Receive: %v %v, want the close", msg.Type, err)
		}
		_ = ws.SendClose(msg.CloseStatus, "")
	})
	c := wstest.Dial(t, addr, "/ws")
	for _, want := range []string{"deadline", "cancelled"} {
		select {
		case got := <-step:
			if got != want {
				t.Fatalf("step %q, want %q", got, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("timed out waiting for step %q", want)
		}
	}
	c.WriteFrame(true, 0, wstest.OpText, []byte("first"), true)
	c.WriteFrame(true, 0, wstest.OpText, []byte("second"), true)
	if op, p := c.ReadMessage(); op != wstest.OpText || string(p) != "ok" {
		t.Fatalf("got %#x %q, want ok", op, p)
	}
	c.WriteClose(1000, "")
	if before := c.ExpectClose(1000); len(before) != 0 {
		t.Fatalf("frames before the close: %v", before)
	}
	cxWait(t, done, "the handler")
}

// TestTrySendOnSocket: TrySend never waits: against a client that does
// not read, it queues until the unsent bytes pass MaxUnsentBytes, then
// returns ErrSendQueueFull (queuing nothing) while Unsent reports the
// backlog; once the client reads, TrySend works again, and every message
// it accepted arrives, in order.
func TestTrySendOnSocket(t *testing.T) {
	const limit, size = 64 << 10, 16 << 10
	accepted := make(chan int, 1)
	resumed := make(chan struct{})
	addr, done := cxServe(t, engine.Config{MaxUnsentBytes: limit}, func(ws conn.WebSocket) {
		n := 0
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) {
			start := time.Now()
			err := ws.TrySend(conn.Binary, bytes.Repeat([]byte{byte(n)}, size))
			if time.Since(start) > time.Second {
				t.Errorf("TrySend took %v", time.Since(start))
			}
			if errors.Is(err, conn.ErrSendQueueFull) {
				if u := ws.Unsent(); u < limit {
					t.Errorf("ErrSendQueueFull with Unsent() = %d, under the limit %d", u, limit)
				}
				break
			}
			if err != nil {
				t.Errorf("TrySend: %v", err)
				return
			}
			n++
		}
		accepted <- n
		<-resumed
		// Once the client reads, TrySend works again (as soon as the loop
		// has seen the socket drain).
		err := conn.ErrSendQueueFull
		for errors.Is(err, conn.ErrSendQueueFull) && time.Now().Before(deadline.Add(5*time.Second)) {
			if err = ws.TrySend(conn.Text, []byte("after")); errors.Is(err, conn.ErrSendQueueFull) {
				time.Sleep(10 * time.Millisecond)
			}
		}
		if err != nil {
			t.Errorf("TrySend after the client read: %v", err)
		}
		msg, err := ws.Receive()
		if err == nil && msg.Type == conn.Close {
			_ = ws.SendClose(msg.CloseStatus, "")
		}
	})
	c := wstest.Dial(t, addr, "/ws")
	var n int
	select {
	case n = <-accepted:
	case <-time.After(10 * time.Second):
		t.Fatal("TrySend never reported a full queue")
	}
	if n == 0 {
		t.Fatal("no TrySend was accepted")
	}
	close(resumed)
	for i := range n {
		op, p := c.ReadMessage()
		if op != wstest.OpBinary || len(p) != size || p[0] != byte(i) || p[size-1] != byte(i) {
			t.Fatalf("message %d of %d: op %#x, %d bytes starting with %d", i, n, op, len(p), p[0])
		}
	}
	if op, p := c.ReadMessage(); op != wstest.OpText || string(p) != "after" {
		t.Fatalf("got %#x %q, want after", op, p)
	}
	c.WriteClose(1000, "")
	if before := c.ExpectClose(1000); len(before) != 0 {
		t.Fatalf("frames before the close: %v", before)
	}
	cxWait(t, done, "the handler")
	t.Logf("%d messages of %d KiB accepted before the %d KiB queue was full", n, size>>10, limit>>10)
}

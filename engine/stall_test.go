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

// The stall's two ends when the peer sends nothing: output the application
// queued past MaxUnsentBytes for a peer that neither reads nor writes is
// bounded by WriteTimeout, and a peer that reads it all in time stays
// connected however long it then stays silent.

const (
	stMax     = 64 << 10
	stTimeout = 400 * time.Millisecond
)

// stFill sends 16 KiB messages until gnet holds MaxUnsentBytes for the
// peer (the socket's buffers are full: after a refusal and a pause, the
// unsent bytes are still at the limit), or the connection ends, at most
// 5s. It returns how many messages it sent.
func stFill(send func([]byte) error, unsent func() int) int {
	p := bytes.Repeat([]byte("f"), 16<<10)
	n := 0
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		err := send(p)
		if err == nil {
			n++
			continue
		}
		if !errors.Is(err, conn.ErrSendQueueFull) {
			break
		}
		time.Sleep(20 * time.Millisecond)
		if unsent() >= stMax {
			break
		}
	}
	return n
}

// stFiller fills the connection's queue as soon as it opens (from a
// goroutine of its own), reports how many messages it sent on filled,
// then echoes.
type stFiller struct{ filled chan<- int }

func (f stFiller) OnOpen(c *engine.Conn) {
	go func() {
		f.filled <- stFill(func(p []byte) error { return c.Send(conn.Binary, p) }, c.Unsent)
	}()
}

func (stFiller) OnMessage(c *engine.Conn, t conn.MessageType, p []byte) { _ = c.Send(t, p) }

func (stFiller) OnClose(*engine.Conn, error) {}

// stFillerBlocking is stFiller for the blocking API, with TrySend.
func stFillerBlocking(filled chan<- int) upgrade.HandlerFunc {
	return func(ctx *upgrade.Context) {
		ws, err := ctx.Upgrader().Upgrade()
		if err != nil {
			return
		}
		filled <- stFill(func(p []byte) error { return ws.TrySend(conn.Binary, p) }, ws.Unsent)
		for {
			msg, err := ws.Receive()
			if err != nil {
				return
			}
			_ = ws.Send(msg.Type, msg.Data)
		}
	}
}

// stStart serves stFiller on /event and stFillerBlocking on /blocking;
// each connection's message count arrives on the channel returned.
func stStart(t *testing.T) (string, <-chan int) {
	t.Helper()
	srv := engine.New(engine.Config{
		Addr:           "127.0.0.1:0",
		EventLoops:     2,
		MaxUnsentBytes: stMax,
		WriteTimeout:   stTimeout,
		IdleTimeout:    time.Minute,
	})
	filled := make(chan int, 4)
	srv.HandleEvents("/event", stFiller{filled})
	srv.HandleFunc("/blocking", stFillerBlocking(filled))
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	return srv.Addr().String(), filled
}

// TestStallSilentPeer: a peer that neither reads nor sends is dropped once
// its output has been over MaxUnsentBytes for WriteTimeout.
func TestStallSilentPeer(t *testing.T) {
	addr, _ := stStart(t)
	for _, path := range []string{"/event", "/blocking"} {
		t.Run(path[1:], func(t *testing.T) {
			c := wstest.Dial(t, addr, path)
			defer c.Close()
			start := time.Now()
			// The client's receive buffer takes some of the output before
			// the server's queue fills; it must not read any of it.
			if !hsWaitClosed(t, c.NetConn(), stTimeout+2*time.Second) {
				t.Fatalf("connection still open %v after its queue filled (WriteTimeout %v)", time.Since(start), stTimeout)
			}
			t.Logf("dropped after %v", time.Since(start).Round(time.Millisecond))
		})
	}
}

// TestStallCaughtUp: a peer that reads its whole backlog before
// WriteTimeout, then stays silent for several WriteTimeouts, is still
// connected and served.
func TestStallCaughtUp(t *testing.T) {
	addr, filled := stStart(t)
	for _, path := range []string{"/event", "/blocking"} {
		t.Run(path[1:], func(t *testing.T) {
			c := wstest.Dial(t, addr, path)
			defer c.Close()
			var n int
			select {
			case n = <-filled:
			case <-time.After(10 * time.Second):
				t.Fatal("the server never filled the queue")
			}
			// Well within WriteTimeout of the stall, read the backlog.
			for i := range n {
				if f, err := c.ReadFrame(); err != nil || f.Opcode != wstest.OpBinary {
					t.Fatalf("backlog message %d of %d: %v (op %#x)", i, n, err, f.Opcode)
				}
			}
			time.Sleep(3 * stTimeout)
			c.WriteFrame(true, 0, wstest.OpText, []byte("still here"), true)
			if op, p := c.ReadMessage(); op != wstest.OpText || string(p) != "still here" {
				t.Fatalf("after the backlog and %v of silence: op %#x %q", 3*stTimeout, op, p)
			}
		})
	}
}

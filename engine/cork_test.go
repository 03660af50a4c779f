package engine_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/volley-ws/volley/conn"
	"github.com/volley-ws/volley/engine"
	"github.com/volley-ws/volley/internal/wstest"
	"github.com/volley-ws/volley/upgrade"
)

// TestCorkedSendFlushedWhenReceiverStalls: a reply sent while the receiver
// still holds received messages waits for the receiver to finish its batch,
// so that the replies leave in one write. When the receiver stalls instead,
// the engine's ticker flushes the reply within two of its 100ms scans,
// long before the receiver comes back.
func TestCorkedSendFlushedWhenReceiverStalls(t *testing.T) {
	const stall = 3 * time.Second
	resumed := make(chan time.Time, 1)
	srv := engine.New(engine.Config{Addr: "127.0.0.1:0", EventLoops: 1})
	srv.HandleFunc("/stall", func(ctx *upgrade.Context) {
		ws, err := ctx.Upgrader().Upgrade()
		if err != nil {
			return
		}
		m, err := ws.Receive()
		if err != nil {
			return
		}
		// The second message is already queued: this send is corked.
		if err := ws.Send(conn.Binary, append([]byte("re:"), m.Data...)); err != nil {
			return
		}
		time.Sleep(stall)
		resumed <- time.Now()
		if _, err := ws.Receive(); err != nil {
			return
		}
		_ = ws.Close(conn.StatusNormalClosure, "")
	})
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Shutdown(t.Context()) })

	c := wstest.Dial(t, srv.Addr().String(), "/stall")
	defer c.Close()
	// Both messages in one write, so the loop queues them as one batch.
	two := wstest.AppendFrame(nil, true, 0, 0x2, []byte("one"), true)
	two = wstest.AppendFrame(two, true, 0, 0x2, []byte("two"), true)
	c.WriteRaw(two)

	c.Timeout = stall - time.Second
	f, err := c.ReadFrame()
	if err != nil {
		t.Fatalf("the reply did not arrive while the receiver stalled: %v", err)
	}
	if !bytes.Equal(f.Payload, []byte("re:one")) {
		t.Fatalf("reply %v, want re:one", f)
	}
	select {
	case <-resumed:
		t.Fatal("the reply arrived only after the receiver resumed")
	default:
	}
	c.Timeout = 2 * stall
	c.ExpectClose(int(conn.StatusNormalClosure))
}

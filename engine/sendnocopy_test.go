package engine_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/volley-ws/volley/conn"
	"github.com/volley-ws/volley/engine"
	"github.com/volley-ws/volley/internal/wstest"
)

// ncMessage returns a distinct payload of n bytes for message i: its
// first bytes hold i, the rest letters that move with i, so that a
// misplaced or overwritten byte shows.
func ncMessage(i, n int) []byte {
	p := make([]byte, n)
	for j := range p {
		p[j] = 'a' + byte((i+j)%26)
	}
	if n >= 4 {
		binary.BigEndian.PutUint32(p, uint32(i))
	}
	return p
}

// ncEcho echoes every message with SendNoCopy and records a failed send.
type ncEcho struct {
	mu   sync.Mutex
	errs []error
}

func (h *ncEcho) OnOpen(*engine.Conn) {}
func (h *ncEcho) OnMessage(c *engine.Conn, t conn.MessageType, p []byte) {
	h.record(c.SendNoCopy(t, p))
}

// record keeps err, a send's result, unless it is nil.
func (h *ncEcho) record(err error) {
	if err == nil {
		return
	}
	h.mu.Lock()
	h.errs = append(h.errs, err)
	h.mu.Unlock()
}
func (h *ncEcho) OnClose(*engine.Conn, error) {}

func (h *ncEcho) check(t *testing.T) {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.errs) > 0 {
		t.Fatalf("SendNoCopy failed: %v", h.errs)
	}
}

// TestSendNoCopyEcho: messages below, at and above the no-copy size, text
// and binary, sent in one write so that many share a read, come back
// exact and in order, batch after batch.
func TestSendNoCopyEcho(t *testing.T) {
	h := &ncEcho{}
	s := apiServeEvents(t, engine.Config{}, h)
	c := wstest.Dial(t, s.addr, icEventsPath)
	sizes := []int{0, 1, 125, 1023, 1024, 1025, 4096, 65535, 65536, 200_000}
	i := 0
	for round := range 3 {
		var batch []byte
		var want [][]byte
		for _, n := range sizes {
			p := ncMessage(i, n)
			op := byte(wstest.OpBinary)
			if i%2 == 1 && n < 4 { // text: no binary sequence number
				op = wstest.OpText
			}
			batch = wstest.AppendFrame(batch, true, 0, op, p, true)
			want = append(want, append([]byte{op}, p...))
			i++
		}
		c.WriteRaw(batch)
		for k, w := range want {
			op, p := c.ReadMessage()
			if op != w[0] || !bytes.Equal(p, w[1:]) {
				t.Fatalf("round %d, message %d (%d bytes): got op %#x, %d bytes, want op %#x", round, k, len(w)-1, op, len(p), w[0])
			}
		}
	}
	// Each frame's first byte in the read before: the next read's input is
	// gnet's joined copy of the leftover byte and the new ones.
	var batch []byte
	var offsets []int
	for k, n := range sizes {
		if k > 0 {
			offsets = append(offsets, len(batch)+1)
		}
		batch = wstest.AppendFrame(batch, true, 0, wstest.OpBinary, ncMessage(i+k, n), true)
	}
	c.WriteChunks(batch, offsets...)
	for k, n := range sizes {
		op, p := c.ReadMessage()
		if op != wstest.OpBinary || !bytes.Equal(p, ncMessage(i+k, n)) {
			t.Fatalf("split message %d (%d bytes): got op %#x, %d bytes", k, n, op, len(p))
		}
	}
	h.check(t)
	cfCloseCleanly(t, c)
}

// TestSendNoCopySocketFull: the client sends 16 MiB of echoes' worth
// before it reads any, more than the two sockets' buffers hold, so the
// server's writev is cut short and gnet keeps the rest, then more replies
// queue behind it. Every echo must still arrive whole and in order.
func TestSendNoCopySocketFull(t *testing.T) {
	h := &ncEcho{}
	s := apiServeEvents(t, engine.Config{MaxUnsentBytes: 64 << 20}, h)
	c := wstest.Dial(t, s.addr, icEventsPath)
	const count, size = 256, 64 << 10
	var batch []byte
	for i := range count {
		batch = wstest.AppendFrame(batch, true, 0, wstest.OpBinary, ncMessage(i, size), true)
	}
	c.Timeout = 30 * time.Second
	written := make(chan struct{})
	go func() {
		defer close(written)
		_, _ = c.NetConn().Write(batch) // the reads below fail if this does
	}()
	time.Sleep(300 * time.Millisecond) // let the server's socket fill
	for i := range count {
		op, p := c.ReadMessage()
		if op != wstest.OpBinary || !bytes.Equal(p, ncMessage(i, size)) {
			t.Fatalf("message %d: got op %#x, %d bytes (first %x), want %d bytes", i, op, len(p), p[:min(8, len(p))], size)
		}
	}
	<-written
	h.check(t)
	cfCloseCleanly(t, c)
}

// ncMixed sends, for each message, a buffer of its own twice with a change
// in between, a slice of the payload, then the payload itself.
type ncMixed struct{ ncEcho }

func (h *ncMixed) OnMessage(c *engine.Conn, t conn.MessageType, p []byte) {
	own := bytes.Repeat([]byte{'A'}, 4096)
	sends := []func() error{
		func() error { return c.SendNoCopy(conn.Binary, own) },
		func() error { copy(own, bytes.Repeat([]byte{'B'}, 4096)); return c.SendNoCopy(conn.Binary, own) },
		func() error { return c.SendNoCopy(t, p[100:]) },
		func() error { return c.SendNoCopy(t, p) },
	}
	for _, send := range sends {
		h.record(send())
	}
}

// TestSendNoCopyCopiesOtherData: SendNoCopy copies data that is not the
// received message (a buffer the handler changes right after), and writes
// a part of the message, or all of it, from the input.
func TestSendNoCopyCopiesOtherData(t *testing.T) {
	h := &ncMixed{}
	s := apiServeEvents(t, engine.Config{}, h)
	c := wstest.Dial(t, s.addr, icEventsPath)
	for i := range 3 {
		p := ncMessage(i, 5000)
		c.WriteFrame(true, 0, wstest.OpBinary, p, true)
		for k, want := range [][]byte{bytes.Repeat([]byte{'A'}, 4096), bytes.Repeat([]byte{'B'}, 4096), p[100:], p} {
			op, got := c.ReadMessage()
			if op != wstest.OpBinary || !bytes.Equal(got, want) {
				t.Fatalf("message %d, send %d: got op %#x, %d bytes %q..., want %d bytes %q...", i, k, op, len(got), got[:min(8, len(got))], len(want), want[:8])
			}
		}
	}
	h.check(t)
	cfCloseCleanly(t, c)
}

// ncThenOther sends the message with SendNoCopy, then has another
// goroutine send a text message and waits for it, so the second send
// happens after the first.
type ncThenOther struct{ ncEcho }

func (h *ncThenOther) OnMessage(c *engine.Conn, t conn.MessageType, p []byte) {
	h.record(c.SendNoCopy(t, p))
	done := make(chan error)
	go func() { done <- c.SendText(fmt.Sprintf("after %d", len(p))) }()
	h.record(<-done)
}

// TestSendNoCopyOrder: a send made by another goroutine after SendNoCopy
// returned is written after the referenced payload, in the same flush.
func TestSendNoCopyOrder(t *testing.T) {
	h := &ncThenOther{}
	s := apiServeEvents(t, engine.Config{}, h)
	c := wstest.Dial(t, s.addr, icEventsPath)
	var batch []byte
	var sizes []int
	for i := range 8 {
		n := 1000 + 3000*i
		sizes = append(sizes, n)
		batch = wstest.AppendFrame(batch, true, 0, wstest.OpBinary, ncMessage(i, n), true)
	}
	c.WriteRaw(batch)
	for i, n := range sizes {
		op, p := c.ReadMessage()
		if op != wstest.OpBinary || !bytes.Equal(p, ncMessage(i, n)) {
			t.Fatalf("message %d: got op %#x, %d bytes, want the %d-byte echo", i, op, len(p), n)
		}
		op, p = c.ReadMessage()
		if want := fmt.Sprintf("after %d", n); op != wstest.OpText || string(p) != want {
			t.Fatalf("after message %d: got op %#x %q, want %q", i, op, cfShort(p), want)
		}
	}
	h.check(t)
	cfCloseCleanly(t, c)
}

// TestSendNoCopyQueueFull: SendNoCopy refuses a message over
// MaxUnsentBytes as Send does, with ErrSendQueueFull, and queues nothing.
func TestSendNoCopyQueueFull(t *testing.T) {
	got := make(chan error, 1)
	h := &apiEventFuncs{message: func(c *engine.Conn, t conn.MessageType, p []byte) {
		first := c.SendNoCopy(t, p) // under the limit: queued, by reference
		got <- c.SendNoCopy(t, p)   // now over it
		if first != nil {
			got <- first
		}
	}}
	s := apiServeEvents(t, engine.Config{MaxUnsentBytes: 2000}, h)
	c := wstest.Dial(t, s.addr, icEventsPath)
	p := ncMessage(0, 3000)
	c.WriteFrame(true, 0, wstest.OpBinary, p, true)
	if err := icRecv(t, got, 5*time.Second, "the second SendNoCopy"); err != conn.ErrSendQueueFull {
		t.Fatalf("second SendNoCopy: %v, want ErrSendQueueFull", err)
	}
	cfExpectEcho(t, c, wstest.OpBinary, p)
	cfCloseCleanly(t, c)
}

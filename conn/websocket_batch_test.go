package conn_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/volley-ws/volley/conn"
)

// Batches: the receiver takes the messages the event loop queued in one
// batch; while it works through one, what it sends is corked (Send without
// flush) and flushed once when it takes the next; the bytes of a batch are
// reported consumed when it is recycled.

// TestCorking runs scripts of receive and send steps over a batch of
// messages delivered up front:
//
//	R  Receive (the next message of the batch)
//	P  ReceiveFrame with a 2-byte buffer
//	r  ReceiveContext with a cancelled context: takes the next batch
//	D  deliver one more message
//	S  SendText from the receiving goroutine
//	G  SendText from another goroutine
//	F  SendFrame, a fragment that does not end its message
//
// and checks the flush argument of every send and the Flush calls.
func TestCorking(t *testing.T) {
	cases := []struct {
		name    string
		batch   []string
		script  string
		flush   []bool // each send's flush argument
		flushes int    // Flush calls at the end
	}{
		{"nothing received", nil, "S S", []bool{true, true}, 0},
		{"one message", []string{"a"}, "R S r", []bool{true}, 0},
		{"batch of three", []string{"a", "b", "c"}, "R S S R S R S r", []bool{false, false, false, true}, 1},
		{"corked replies flushed at the next batch", []string{"a", "b"}, "R S R r", []bool{false}, 1},
		{"nothing corked, nothing flushed", []string{"a", "b"}, "R R r", nil, 0},
		{"flushed once for many sends", []string{"a", "b"}, "R S S S R r r", []bool{false, false, false}, 1},
		{"next batch already queued", []string{"a", "b"}, "R S D R R S r", []bool{false, true}, 1},
		{"sends from other goroutines are corked too", []string{"a", "b"}, "R G R G r", []bool{false, true}, 1},
		{"fragments are corked too", []string{"a", "b"}, "R F R F r", []bool{false, true}, 1},
		{"pieces of a message", []string{"abcd", "e"}, "P S P S P S r", []bool{false, false, true}, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, ws := newSession(t)
			m.deliverText(t, tc.batch...)
			cancelled, cancel := context.WithCancel(context.Background())
			cancel()
			buf := make([]byte, 2)
			for _, step := range strings.Fields(tc.script) {
				var err error
				switch step {
				case "R":
					_, err = receive(t, ws)
				case "P":
					_, err = receiveFrame(t, ws, buf)
				case "r":
					_, err = ws.ReceiveContext(cancelled)
					if errors.Is(err, context.Canceled) {
						err = nil
					}
				case "D":
					m.deliverText(t, "d")
				case "S":
					err = ws.SendText(step)
				case "G":
					err = await(t, async(func() error { return ws.SendText(step) }), "SendText")
				case "F":
					err = ws.SendFrame([]byte(step), conn.Text, false)
				}
				if err != nil {
					t.Fatalf("step %s: %v", step, err)
				}
			}
			var flush []bool
			for _, w := range m.wire() {
				flush = append(flush, w.Flush)
			}
			if boolString(flush) != boolString(tc.flush) {
				t.Fatalf("flush arguments %v, want %v", flush, tc.flush)
			}
			if flushes, _, _, _, _ := m.counts(); flushes != tc.flushes {
				t.Fatalf("%d Flush calls, want %d", flushes, tc.flushes)
			}
		})
	}
}

func boolString(b []bool) string {
	var s strings.Builder
	for _, v := range b {
		if v {
			s.WriteByte('1')
		} else {
			s.WriteByte('0')
		}
	}
	return s.String()
}

// TestCorkedFlushBeforeWaiting: a receiver that goes to wait for the next
// batch flushes what it corked first, not once the batch arrives.
func TestCorkedFlushBeforeWaiting(t *testing.T) {
	m, ws := newSession(t)
	m.deliverText(t, "a", "b")
	mustReceive(t, ws, conn.Text, "a")
	checkErr(t, "SendText", ws.SendText("reply"), nil)
	mustReceive(t, ws, conn.Text, "b")
	if flushes, _, _, _, _ := m.counts(); flushes != 0 {
		t.Fatalf("%d Flush calls before the batch was done, want 0", flushes)
	}
	got := async(func() received { m, err := ws.Receive(); return received{m, err} })
	waitParked(t, "session.(*Session).takeBatch")
	if flushes, _, _, _, _ := m.counts(); flushes != 1 {
		t.Fatalf("%d Flush calls while waiting for the next batch, want 1", flushes)
	}
	m.deliverText(t, "c")
	if r := await(t, got, "Receive"); r.err != nil || string(r.msg.Data) != "c" {
		t.Fatalf("Receive = %q, %v", r.msg.Data, r.err)
	}
	if flushes, _, _, _, _ := m.counts(); flushes != 1 {
		t.Fatalf("%d Flush calls, want 1", flushes)
	}
}

// TestConsumed: the bytes of a batch are reported to the transport when
// the receiver recycles it (taking the next one, or finding the stream
// ended), and add up to what Deliver and PeerClose returned.
func TestConsumed(t *testing.T) {
	m, ws := newSession(t)
	s := ws
	check := func(step string, wantConsumed int) {
		t.Helper()
		_, consumed, delivered, _, _ := m.counts()
		if consumed != wantConsumed {
			t.Fatalf("%s: %d bytes consumed, want %d", step, consumed, wantConsumed)
		}
		if u := s.Unread(); u != delivered-consumed {
			t.Fatalf("%s: Unread = %d, want %d delivered - %d consumed", step, u, delivered, consumed)
		}
	}
	n1 := m.deliver(t, conn.Text, []byte("aa"))
	n2 := m.deliver(t, conn.Binary, []byte("bbb"))
	if n1 <= 2 || n2 <= 3 {
		t.Fatalf("Deliver added %d and %d bytes, less than the payloads", n1, n2)
	}
	check("delivered", 0)
	mustReceive(t, ws, conn.Text, "aa")
	check("first of the batch", 0)
	n3 := m.deliver(t, conn.Text, []byte("cccc"))
	mustReceive(t, ws, conn.Binary, "bbb")
	check("end of the batch", 0)
	mustReceive(t, ws, conn.Text, "cccc")
	check("next batch", n1+n2)
	m.peerClose(conn.StatusNormalClosure, "done")
	if msg, err := receive(t, ws); err != nil || msg.Type != conn.Close {
		t.Fatalf("Receive = %+v, %v", msg, err)
	}
	check("the close", n1+n2+n3)
	if _, err := receive(t, ws); !errors.Is(err, conn.ErrClosed) {
		t.Fatalf("Receive = %v", err)
	}
	_, _, delivered, _, _ := m.counts()
	check("the end", delivered)
	if s.Unread() != 0 {
		t.Fatalf("Unread = %d at the end", s.Unread())
	}
}

// TestConsumedOnCancel: a receive call whose context is done still
// recycles the batch it finished, and reports its bytes.
func TestConsumedOnCancel(t *testing.T) {
	m, ws := newSession(t)
	n := m.deliver(t, conn.Text, []byte("x"))
	mustReceive(t, ws, conn.Text, "x")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ws.ReceiveContext(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("ReceiveContext = %v", err)
	}
	if _, consumed, _, _, _ := m.counts(); consumed != n {
		t.Fatalf("%d bytes consumed, want %d", consumed, n)
	}
}

// TestDeliverLimit: Deliver refuses a message that would take the unread
// bytes past its limit, unless nothing is unread.
func TestDeliverLimit(t *testing.T) {
	const header = 5 // the size of an empty message's record
	cases := []struct {
		name    string
		max     int
		sizes   []int
		refused int // index of the first refused message, or -1
	}{
		{"no limit", 0, []int{1000, 1000, 1000}, -1},
		{"an empty inbox takes any size", 10, []int{100}, -1},
		{"fits exactly", 2*header + 20, []int{10, 10}, -1},
		{"one byte over", 2*header + 19, []int{10, 10}, 1},
		{"over after a large one", 50, []int{100, 1}, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, ws := newSession(t)
			total := 0
			for i, size := range tc.sizes {
				n, ok := m.push(conn.Binary, make([]byte, size), tc.max)
				if ok != (i != tc.refused) {
					t.Fatalf("message %d of %d bytes: ok %v", i, size, ok)
				}
				if !ok {
					if n != 0 {
						t.Fatalf("a refused message added %d bytes", n)
					}
					break
				}
				total += n
			}
			if u := ws.Unread(); u != total {
				t.Fatalf("Unread = %d, want %d", u, total)
			}
		})
	}
}

// TestDetach: once the handler returned, nothing more is queued or
// reported consumed; what was queued stays readable and its bytes are
// handed back by Detach.
func TestDetach(t *testing.T) {
	m, ws := newSession(t)
	s := ws
	m.deliverText(t, "a", "b")
	mustReceive(t, ws, conn.Text, "a")
	m.deliverText(t, "c")
	_, _, delivered, _, _ := m.counts()
	if back := s.Detach(); back != delivered || !s.Detached() {
		t.Fatalf("Detach returned %d bytes, want the %d unread; Detached %v", back, delivered, s.Detached())
	}
	if n, ok := s.Deliver(conn.Text, []byte("dropped"), 0); n != 0 || !ok {
		t.Fatalf("Deliver after Detach = %d, %v; want 0, true", n, ok)
	}
	if n := s.PeerClose(conn.StatusNormalClosure, nil); n != 0 {
		t.Fatalf("PeerClose after Detach added %d bytes", n)
	}
	mustReceive(t, ws, conn.Text, "b")
	mustReceive(t, ws, conn.Text, "c")
	if _, err := receive(t, ws); !errors.Is(err, conn.ErrClosed) {
		t.Fatalf("Receive after the queued messages = %v, want ErrClosed", err)
	}
	if _, consumed, _, _, _ := m.counts(); consumed != 0 {
		t.Fatalf("%d bytes reported consumed after Detach", consumed)
	}
	if u := s.Unread(); u != 0 {
		t.Fatalf("Unread = %d after Detach", u)
	}
}

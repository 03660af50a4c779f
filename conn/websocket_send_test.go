package conn_test

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/volley-ws/volley/conn"
)

// The send side of conn.WebSocket (Send, SendText, SendBinary, TrySend,
// SendFrame), through a Session over memTransport.

// checkWire fails the test unless the transport was asked to send exactly
// want, in order.
func checkWire(t testing.TB, m *memTransport, want ...wire) {
	t.Helper()
	got := m.wire()
	same := len(got) == len(want)
	for i := 0; same && i < len(got); i++ {
		g, w := got[i], want[i]
		same = g.Kind == w.Kind && g.Type == w.Type && g.First == w.First && g.Fin == w.Fin &&
			bytes.Equal(g.Payload, w.Payload) && g.Wait == w.Wait && g.Flush == w.Flush &&
			g.Code == w.Code && g.Reason == w.Reason
	}
	if !same {
		t.Fatalf("frames sent:\n\t%v\nwant:\n\t%v", got, want)
	}
}

// checkErr fails the test unless err is want (nil for no error).
func checkErr(t testing.TB, what string, err, want error) {
	t.Helper()
	if want == nil && err != nil || want != nil && !errors.Is(err, want) {
		t.Fatalf("%s = %v, want %v", what, err, want)
	}
}

func TestSend(t *testing.T) {
	cases := []struct {
		name string
		send func(ws conn.WebSocket) error
		want error
		wire []wire // what reaches the transport
	}{
		{"Send text", func(ws conn.WebSocket) error { return ws.Send(conn.Text, []byte("héllo")) },
			nil, []wire{whole(conn.Text, "héllo")}},
		{"Send empty text", func(ws conn.WebSocket) error { return ws.Send(conn.Text, nil) },
			nil, []wire{whole(conn.Text, "")}},
		{"Send binary that is not UTF-8", func(ws conn.WebSocket) error { return ws.Send(conn.Binary, []byte("\xff\x00\xc3")) },
			nil, []wire{whole(conn.Binary, "\xff\x00\xc3")}},
		{"Send invalid UTF-8", func(ws conn.WebSocket) error { return ws.Send(conn.Text, []byte("a\xffb")) },
			conn.ErrInvalidUTF8, nil},
		{"Send truncated UTF-8", func(ws conn.WebSocket) error { return ws.Send(conn.Text, []byte("caf\xc3")) },
			conn.ErrInvalidUTF8, nil},
		{"Send surrogate", func(ws conn.WebSocket) error { return ws.Send(conn.Text, []byte("\xed\xa0\x80")) },
			conn.ErrInvalidUTF8, nil},
		{"Send overlong", func(ws conn.WebSocket) error { return ws.Send(conn.Text, []byte("\xc0\xaf")) },
			conn.ErrInvalidUTF8, nil},
		{"Send close type", func(ws conn.WebSocket) error { return ws.Send(conn.Close, []byte("x")) },
			conn.ErrInvalidMessageType, nil},
		{"Send zero type", func(ws conn.WebSocket) error { return ws.Send(0, []byte("x")) },
			conn.ErrInvalidMessageType, nil},
		{"Send unknown type", func(ws conn.WebSocket) error { return ws.Send(9, []byte("x")) },
			conn.ErrInvalidMessageType, nil},
		{"SendText", func(ws conn.WebSocket) error { return ws.SendText("ünïcode ✓ 😀") },
			nil, []wire{whole(conn.Text, "ünïcode ✓ 😀")}},
		{"SendText invalid UTF-8", func(ws conn.WebSocket) error { return ws.SendText("\xf4\x90\x80\x80") },
			conn.ErrInvalidUTF8, nil},
		{"SendBinary", func(ws conn.WebSocket) error { return ws.SendBinary([]byte{0, 1, 2, 0xff}) },
			nil, []wire{whole(conn.Binary, "\x00\x01\x02\xff")}},
		{"TrySend text", func(ws conn.WebSocket) error { return ws.TrySend(conn.Text, []byte("now")) },
			nil, []wire{data(conn.Text, true, true, "now", false, true)}},
		{"TrySend binary", func(ws conn.WebSocket) error { return ws.TrySend(conn.Binary, []byte("\xfe")) },
			nil, []wire{data(conn.Binary, true, true, "\xfe", false, true)}},
		{"TrySend close type", func(ws conn.WebSocket) error { return ws.TrySend(conn.Close, nil) },
			conn.ErrInvalidMessageType, nil},
		{"TrySend invalid UTF-8", func(ws conn.WebSocket) error { return ws.TrySend(conn.Text, []byte("\x80")) },
			conn.ErrInvalidUTF8, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, ws := newSession(t)
			err := await(t, async(func() error { return tc.send(ws) }), "send")
			checkErr(t, "send", err, tc.want)
			checkWire(t, m, tc.wire...)
			if st := ws.State(); st != conn.StateOpen {
				t.Fatalf("State after a send = %v, want Open", st)
			}
		})
	}
}

// sends are the WebSocket's send methods, for the tests that try them all.
var sends = []struct {
	name string
	send func(ws conn.WebSocket) error
}{
	{"Send", func(ws conn.WebSocket) error { return ws.Send(conn.Binary, []byte("b")) }},
	{"SendText", func(ws conn.WebSocket) error { return ws.SendText("t") }},
	{"SendBinary", func(ws conn.WebSocket) error { return ws.SendBinary([]byte("b")) }},
	{"TrySend", func(ws conn.WebSocket) error { return ws.TrySend(conn.Text, []byte("t")) }},
	{"SendFrame", func(ws conn.WebSocket) error { return ws.SendFrame([]byte("f"), conn.Text, false) }},
}

// TestSendStates: sends are refused with ErrClosed once this side sent its
// close frame or the connection ended, and allowed while the peer's close
// waits for an answer.
func TestSendStates(t *testing.T) {
	setups := []struct {
		name string
		to   func(t *testing.T, m *memTransport, ws conn.WebSocket)
		want error
	}{
		{"open", func(*testing.T, *memTransport, conn.WebSocket) {}, nil},
		{"close received", func(t *testing.T, m *memTransport, ws conn.WebSocket) {
			m.peerClose(conn.StatusGoingAway, "")
			if msg, err := receive(t, ws); err != nil || msg.Type != conn.Close {
				t.Fatalf("Receive = %v, %v; want the peer's close", msg.Type, err)
			}
		}, nil},
		{"close sent", func(t *testing.T, m *memTransport, ws conn.WebSocket) {
			checkErr(t, "SendClose", ws.SendClose(conn.StatusNormalClosure, ""), nil)
		}, conn.ErrClosed},
		{"closed", func(t *testing.T, m *memTransport, ws conn.WebSocket) {
			m.peerClose(conn.StatusNormalClosure, "")
			checkErr(t, "SendClose", ws.SendClose(conn.StatusNormalClosure, ""), nil)
		}, conn.ErrClosed},
		{"aborted", func(t *testing.T, m *memTransport, ws conn.WebSocket) { ws.Abort() }, conn.ErrClosed},
		{"failed", func(t *testing.T, m *memTransport, ws conn.WebSocket) {
			m.fail(&conn.CloseError{Code: conn.StatusProtocolError})
			if _, err := receive(t, ws); conn.CloseStatus(err) != conn.StatusProtocolError {
				t.Fatalf("Receive = %v, want the failure", err)
			}
		}, conn.ErrClosed},
		{"connection lost", func(t *testing.T, m *memTransport, ws conn.WebSocket) { m.lost() }, conn.ErrClosed},
	}
	for _, st := range setups {
		for _, s := range sends {
			t.Run(st.name+"/"+s.name, func(t *testing.T) {
				m, ws := newSession(t)
				st.to(t, m, ws)
				before := len(m.wire())
				err := await(t, async(func() error { return s.send(ws) }), s.name)
				checkErr(t, s.name, err, st.want)
				if sent := len(m.wire()) - before; (sent == 0) != (st.want != nil) {
					t.Fatalf("%s returned %v and sent %d frames", s.name, err, sent)
				}
			})
		}
	}
}

// TestTrySendQueueFull: over the unsent limit TrySend queues nothing and
// returns ErrSendQueueFull at once, while Send waits for room.
func TestTrySendQueueFull(t *testing.T) {
	m, ws := newSession(t)
	m.setFull(true)
	err := await(t, async(func() error { return ws.TrySend(conn.Text, []byte("dropped")) }), "TrySend")
	checkErr(t, "TrySend on a full queue", err, conn.ErrSendQueueFull)
	checkWire(t, m)

	sent := async(func() error { return ws.SendText("waited") })
	eventually(t, "Send to wait for room", func() bool { return m.sendWaiters() == 1 })
	err = await(t, async(func() error { return ws.TrySend(conn.Binary, []byte("dropped too")) }), "TrySend")
	checkErr(t, "TrySend while a Send waits", err, conn.ErrSendQueueFull)
	if !pending(sent) {
		t.Fatal("Send returned while the queue was full")
	}
	checkWire(t, m)

	m.setFull(false)
	checkErr(t, "Send after room was made", await(t, sent, "Send"), nil)
	checkErr(t, "TrySend after room was made", ws.TrySend(conn.Text, []byte("now")), nil)
	checkWire(t, m, whole(conn.Text, "waited"), data(conn.Text, true, true, "now", false, true))
	if st := ws.State(); st != conn.StateOpen {
		t.Fatalf("State = %v, want Open", st)
	}
}

// TestTrySendNeverWaits: TrySend returns at once, without queuing, while
// another goroutine's send waits for room: a broadcaster is not held up by
// a handler writing to a slow peer.
func TestTrySendNeverWaits(t *testing.T) {
	cases := []struct {
		name    string
		started func(ws conn.WebSocket) error // before the queue is full
		waiting func(ws conn.WebSocket) error
		want    error // TrySend's error meanwhile
	}{
		{"Send", nil, func(ws conn.WebSocket) error { return ws.Send(conn.Binary, []byte("w")) }, conn.ErrSendQueueFull},
		{"SendText", nil, func(ws conn.WebSocket) error { return ws.SendText("w") }, conn.ErrSendQueueFull},
		{"one-frame SendFrame", nil, func(ws conn.WebSocket) error { return ws.SendFrame([]byte("w"), conn.Text, true) }, conn.ErrSendQueueFull},
		{"first fragment", nil, func(ws conn.WebSocket) error { return ws.SendFrame([]byte("w"), conn.Text, false) }, conn.ErrMessageInProgress},
		{"next fragment", func(ws conn.WebSocket) error { return ws.SendFrame([]byte("s"), conn.Text, false) },
			func(ws conn.WebSocket) error { return ws.SendFrame([]byte("w"), conn.Text, true) }, conn.ErrMessageInProgress},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, ws := newSession(t)
			if tc.started != nil {
				checkErr(t, "start", tc.started(ws), nil)
			}
			m.setFull(true)
			sent := async(func() error { return tc.waiting(ws) })
			eventually(t, "the send to wait for room", func() bool { return m.sendWaiters() == 1 })
			before := len(m.wire())
			for range 3 {
				err := await(t, async(func() error { return ws.TrySend(conn.Text, []byte("t")) }), "TrySend")
				checkErr(t, "TrySend while another send waits", err, tc.want)
			}
			if len(m.wire()) != before || !pending(sent) {
				t.Fatal("something was sent while the queue was full")
			}
			m.setFull(false)
			checkErr(t, "the waiting send", await(t, sent, "the waiting send"), nil)
		})
	}
}

// TestSendWaitsForRoom: every waiting send method blocks while the queue
// is full and goes through once there is room.
func TestSendWaitsForRoom(t *testing.T) {
	for _, s := range sends {
		if s.name == "TrySend" {
			continue
		}
		t.Run(s.name, func(t *testing.T) {
			m, ws := newSession(t)
			m.setFull(true)
			sent := async(func() error { return s.send(ws) })
			eventually(t, s.name+" to wait for room", func() bool { return m.sendWaiters() == 1 })
			if len(m.wire()) != 0 || !pending(sent) {
				t.Fatalf("%s went through on a full queue", s.name)
			}
			m.setFull(false)
			checkErr(t, s.name, await(t, sent, s.name), nil)
			if w := m.wire(); len(w) != 1 || !w[0].Wait {
				t.Fatalf("frames sent: %v, want one sent with wait", w)
			}
		})
	}
}

// TestSendWriteTimeout: a Send that waits longer than the write timeout
// aborts the connection and returns ErrWriteTimeout.
func TestSendWriteTimeout(t *testing.T) {
	m, ws := newSessionTimeouts(t, time.Hour, 20*time.Millisecond)
	done := ws.Done()
	m.setFull(true)
	err := await(t, async(func() error { return ws.SendText("stuck") }), "Send")
	checkErr(t, "Send to a peer that does not read", err, conn.ErrWriteTimeout)
	if st := ws.State(); st != conn.StateAborted {
		t.Fatalf("State = %v, want Aborted", st)
	}
	if !isDone(done) {
		t.Fatal("Done is not closed after the write timeout")
	}
	checkErr(t, "Send after the write timeout", ws.SendText("late"), conn.ErrClosed)
	checkWire(t, m)
}

// TestSendFrame: fragments carry first and fin flags, keep the message's
// type, are UTF-8 checked as a whole, and hold off whole-message sends.
func TestSendFrame(t *testing.T) {
	type step struct {
		call func(ws conn.WebSocket) error
		want error
	}
	frame := func(p string, typ conn.MessageType, end bool, want error) step {
		return step{func(ws conn.WebSocket) error { return ws.SendFrame([]byte(p), typ, end) }, want}
	}
	send := func(typ conn.MessageType, p string, want error) step {
		return step{func(ws conn.WebSocket) error { return ws.Send(typ, []byte(p)) }, want}
	}
	fragment := func(typ conn.MessageType, first, fin bool, p string) wire {
		return data(typ, first, fin, p, true, true)
	}
	cases := []struct {
		name  string
		steps []step
		wire  []wire
	}{
		{"three fragments",
			[]step{frame("ab", conn.Text, false, nil), frame("cd", conn.Text, false, nil), frame("ef", conn.Text, true, nil)},
			[]wire{fragment(conn.Text, true, false, "ab"), fragment(conn.Text, false, false, "cd"), fragment(conn.Text, false, true, "ef")}},
		{"one fragment",
			[]step{frame("x", conn.Binary, true, nil)},
			[]wire{fragment(conn.Binary, true, true, "x")}},
		{"messages in a row",
			[]step{frame("a", conn.Binary, false, nil), frame("b", conn.Binary, true, nil), frame("c", conn.Text, false, nil), frame("d", conn.Text, true, nil)},
			[]wire{fragment(conn.Binary, true, false, "a"), fragment(conn.Binary, false, true, "b"), fragment(conn.Text, true, false, "c"), fragment(conn.Text, false, true, "d")}},
		{"empty last fragment",
			[]step{frame("a", conn.Text, false, nil), frame("", conn.Text, true, nil)},
			[]wire{fragment(conn.Text, true, false, "a"), fragment(conn.Text, false, true, "")}},
		{"type change refused",
			[]step{frame("a", conn.Text, false, nil), frame("b", conn.Binary, true, conn.ErrInvalidMessageType), frame("c", conn.Text, true, nil)},
			[]wire{fragment(conn.Text, true, false, "a"), fragment(conn.Text, false, true, "c")}},
		{"close type refused",
			[]step{frame("a", conn.Close, true, conn.ErrInvalidMessageType), frame("b", conn.Binary, false, nil), frame("c", conn.Close, true, conn.ErrInvalidMessageType), frame("d", conn.Binary, true, nil)},
			[]wire{fragment(conn.Binary, true, false, "b"), fragment(conn.Binary, false, true, "d")}},
		{"character split in two",
			[]step{frame("caf\xc3", conn.Text, false, nil), frame("\xa9", conn.Text, true, nil)},
			[]wire{fragment(conn.Text, true, false, "caf\xc3"), fragment(conn.Text, false, true, "\xa9")}},
		{"character split in three",
			[]step{frame("\xf0\x9f", conn.Text, false, nil), frame("\x98", conn.Text, false, nil), frame("\x80!", conn.Text, true, nil)},
			[]wire{fragment(conn.Text, true, false, "\xf0\x9f"), fragment(conn.Text, false, false, "\x98"), fragment(conn.Text, false, true, "\x80!")}},
		{"message ends inside a character",
			[]step{frame("a\xc3", conn.Text, true, conn.ErrInvalidUTF8), send(conn.Text, "ok", nil)},
			[]wire{whole(conn.Text, "ok")}},
		{"last fragment leaves a character unfinished",
			[]step{frame("\xe2\x82", conn.Text, false, nil), frame("", conn.Text, true, conn.ErrInvalidUTF8), frame("\xac", conn.Text, true, nil)},
			[]wire{fragment(conn.Text, true, false, "\xe2\x82"), fragment(conn.Text, false, true, "\xac")}},
		{"bad continuation",
			[]step{frame("\xc3", conn.Text, false, nil), frame("A", conn.Text, true, conn.ErrInvalidUTF8), frame("\xa9", conn.Text, true, nil)},
			[]wire{fragment(conn.Text, true, false, "\xc3"), fragment(conn.Text, false, true, "\xa9")}},
		{"invalid first fragment starts nothing",
			[]step{frame("\xff", conn.Text, false, conn.ErrInvalidUTF8), send(conn.Text, "ok", nil)},
			[]wire{whole(conn.Text, "ok")}},
		{"each message is checked from its start",
			[]step{frame("\xc3\xa9", conn.Text, true, nil), frame("\xa9", conn.Text, true, conn.ErrInvalidUTF8)},
			[]wire{fragment(conn.Text, true, true, "\xc3\xa9")}},
		{"binary fragments are not UTF-8 checked",
			[]step{frame("\xc3", conn.Binary, false, nil), frame("A\xff", conn.Binary, true, nil)},
			[]wire{fragment(conn.Binary, true, false, "\xc3"), fragment(conn.Binary, false, true, "A\xff")}},
		{"whole sends wait for the message's end",
			[]step{
				frame("a", conn.Text, false, nil),
				send(conn.Text, "x", conn.ErrMessageInProgress),
				{func(ws conn.WebSocket) error { return ws.SendText("x") }, conn.ErrMessageInProgress},
				{func(ws conn.WebSocket) error { return ws.SendBinary([]byte("x")) }, conn.ErrMessageInProgress},
				{func(ws conn.WebSocket) error { return ws.TrySend(conn.Binary, []byte("x")) }, conn.ErrMessageInProgress},
				frame("b", conn.Text, true, nil),
				send(conn.Binary, "y", nil),
			},
			[]wire{fragment(conn.Text, true, false, "a"), fragment(conn.Text, false, true, "b"), whole(conn.Binary, "y")}},
		{"a refused whole send does not end the message",
			[]step{frame("a", conn.Text, false, nil), send(conn.Text, "\xff", conn.ErrInvalidUTF8), send(conn.Text, "x", conn.ErrMessageInProgress), frame("b", conn.Text, true, nil)},
			[]wire{fragment(conn.Text, true, false, "a"), fragment(conn.Text, false, true, "b")}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, ws := newSession(t)
			for i, s := range tc.steps {
				err := await(t, async(func() error { return s.call(ws) }), fmt.Sprint("step ", i))
				checkErr(t, fmt.Sprint("step ", i), err, s.want)
			}
			checkWire(t, m, tc.wire...)
		})
	}
}

// TestSendFrameAfterWholeSends: a fragmented message that starts while
// another goroutine's whole message waits for room goes out after it, not
// around it; whole messages are refused from the moment it starts.
func TestSendFrameAfterWholeSends(t *testing.T) {
	m, ws := newSession(t)
	m.setFull(true)
	sent := async(func() error { return ws.SendText("whole") })
	eventually(t, "Send to wait for room", func() bool { return m.sendWaiters() == 1 })
	frame := async(func() error { return ws.SendFrame([]byte("frag"), conn.Text, false) })
	waitParked(t, "session.(*Session).startFraming")
	if m.sendWaiters() != 1 || !pending(frame) {
		t.Fatal("the fragmented message started while a whole message was being sent")
	}
	err := await(t, async(func() error { return ws.TrySend(conn.Text, []byte("t")) }), "TrySend")
	checkErr(t, "TrySend", err, conn.ErrMessageInProgress)
	m.setFull(false)
	checkErr(t, "Send", await(t, sent, "Send"), nil)
	checkErr(t, "SendFrame", await(t, frame, "SendFrame"), nil)
	checkErr(t, "Send during the message", ws.SendText("x"), conn.ErrMessageInProgress)
	checkErr(t, "SendFrame", ws.SendFrame([]byte("ment"), conn.Text, true), nil)
	checkWire(t, m, whole(conn.Text, "whole"), data(conn.Text, true, false, "frag", true, true), data(conn.Text, false, true, "ment", true, true))
}

// TestSendFrameAfterClose: a fragmented message cannot go on once this
// side's close frame is sent.
func TestSendFrameAfterClose(t *testing.T) {
	m, ws := newSession(t)
	checkErr(t, "SendFrame", ws.SendFrame([]byte("a"), conn.Text, false), nil)
	checkErr(t, "SendClose", ws.SendClose(conn.StatusGoingAway, "bye"), nil)
	checkErr(t, "SendFrame after SendClose", ws.SendFrame([]byte("b"), conn.Text, true), conn.ErrClosed)
	checkWire(t, m, data(conn.Text, true, false, "a", true, true), closing(conn.StatusGoingAway, "bye"))
}

// TestConcurrentSends: whole messages sent from many goroutines, and a
// fragmented message sent from one more, reach the transport whole and
// in each goroutine's order: frames never interleave, and no whole
// message lands between the fragments of another. A receiver works
// through deliveries meanwhile, so sends are corked and uncorked.
func TestConcurrentSends(t *testing.T) {
	const (
		senders   = 8
		perSender = 200
		fragMsgs  = 100
		fragments = 3
		delivered = 300
	)
	m, ws := newSession(t)
	var wg sync.WaitGroup
	errs := make(chan error, senders+3)
	for g := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perSender {
				p := fmt.Sprintf("g%d-%d", g, i)
				for {
					var err error
					switch i % 4 {
					case 0:
						err = ws.Send(conn.Text, []byte(p))
					case 1:
						err = ws.SendText(p)
					case 2:
						err = ws.SendBinary([]byte(p))
					default:
						err = ws.TrySend(conn.Binary, []byte(p))
					}
					if errors.Is(err, conn.ErrMessageInProgress) {
						runtime.Gosched()
						continue
					}
					if err != nil {
						errs <- fmt.Errorf("%s: %v", p, err)
						return
					}
					break
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range fragMsgs {
			for f := range fragments {
				p := fmt.Sprintf("f%d.%d", i, f)
				if err := ws.SendFrame([]byte(p), conn.Text, f == fragments-1); err != nil {
					errs <- fmt.Errorf("%s: %v", p, err)
					return
				}
			}
		}
	}()
	wg.Add(2)
	go func() {
		defer wg.Done()
		for i := range delivered {
			m.push(conn.Binary, []byte{byte(i)}, 0)
		}
	}()
	go func() {
		defer wg.Done()
		for i := range delivered {
			msg, err := ws.Receive()
			if err != nil || len(msg.Data) != 1 || msg.Data[0] != byte(i) {
				errs <- fmt.Errorf("Receive %d = %v, %v", i, msg.Data, err)
				return
			}
		}
	}()
	await(t, async(func() struct{} { wg.Wait(); return struct{}{} }), "the senders")
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		return
	}

	next := make([]int, senders) // next message expected from each sender
	nextFrag, inMessage := 0, false
	w := m.wire()
	if len(w) != senders*perSender+fragMsgs*fragments {
		t.Fatalf("%d frames sent, want %d", len(w), senders*perSender+fragMsgs*fragments)
	}
	for i, f := range w {
		p := string(f.Payload)
		if strings.HasPrefix(p, "g") {
			var g, n int
			if _, err := fmt.Sscanf(p, "g%d-%d", &g, &n); err != nil || !f.First || !f.Fin {
				t.Fatalf("frame %d: %v is not a whole message", i, f)
			}
			if inMessage {
				t.Fatalf("frame %d: %v sent in the middle of a fragmented message", i, f)
			}
			if n != next[g] {
				t.Fatalf("frame %d: %v out of its sender's order (want %d)", i, f, next[g])
			}
			next[g]++
			continue
		}
		want := fmt.Sprintf("f%d.%d", nextFrag/fragments, nextFrag%fragments)
		first, fin := nextFrag%fragments == 0, nextFrag%fragments == fragments-1
		if p != want || f.First != first || f.Fin != fin || f.Type != conn.Text {
			t.Fatalf("frame %d: %v, want fragment %q first=%v fin=%v", i, f, want, first, fin)
		}
		inMessage = !fin
		nextFrag++
	}
}

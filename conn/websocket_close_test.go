package conn_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/volley-ws/volley/conn"
)

// How a conn.WebSocket ends: failures, Close and SendClose, Abort, State
// and Done, through a Session over memTransport.

// TestFailed: a failure is reported after the messages delivered before
// it; its close frame goes out (Transport.Fail, once) only when the
// receiver reaches it, after what was sent in reply to those messages;
// later receive calls return the same error.
func TestFailed(t *testing.T) {
	failure := &conn.CloseError{Code: conn.StatusProtocolError, Reason: "reserved opcode"}
	reach := []struct {
		name string
		call func(t *testing.T, ws conn.WebSocket) (string, error)
	}{
		{"Receive", func(t *testing.T, ws conn.WebSocket) (string, error) {
			m, err := receive(t, ws)
			return string(m.Data), err
		}},
		{"ReceiveFrame", func(t *testing.T, ws conn.WebSocket) (string, error) {
			buf := make([]byte, 64)
			res, err := receiveFrame(t, ws, buf)
			return string(buf[:res.Count]), err
		}},
	}
	for _, r := range reach {
		t.Run(r.name, func(t *testing.T) {
			m, ws := newSession(t)
			done := ws.Done()
			m.deliverText(t, "m1", "m2")
			m.fail(failure)
			for _, want := range []string{"m1", "m2"} {
				if _, _, _, fails, _ := m.counts(); fails != 0 {
					t.Fatalf("Transport.Fail called before the receiver reached the failure")
				}
				if st := ws.State(); st != conn.StateOpen || isDone(done) {
					t.Fatalf("State %v, Done closed %v before the failure was reached", st, isDone(done))
				}
				got, err := r.call(t, ws)
				if err != nil || got != want {
					t.Fatalf("got %q, %v; want %q", got, err, want)
				}
				checkErr(t, "reply", ws.SendText("re: "+want), nil)
			}
			if _, _, _, fails, _ := m.counts(); fails != 0 {
				t.Fatalf("Transport.Fail called before the receiver reached the failure")
			}
			_, err := r.call(t, ws)
			var ce *conn.CloseError
			if !errors.As(err, &ce) || ce.Code != failure.Code || ce.Reason != failure.Reason {
				t.Fatalf("at the failure: %v, want %v", err, failure)
			}
			// m1 and m2 came in one batch: the reply to m1 waited for m2's.
			checkWire(t, m, data(conn.Text, true, true, "re: m1", true, false), whole(conn.Text, "re: m2"), closing(failure.Code, failure.Reason))
			if st := ws.State(); st != conn.StateAborted || !isDone(done) {
				t.Fatalf("after the failure: State %v, Done closed %v", st, isDone(done))
			}
			for range 3 {
				if _, again := r.call(t, ws); again != err {
					t.Fatalf("after the failure: %v, want the same error %v", again, err)
				}
			}
			if _, again := receive(t, ws); again != err {
				t.Fatalf("Receive after the failure: %v, want the same error %v", again, err)
			}
			if _, _, _, fails, _ := m.counts(); fails != 1 {
				t.Fatalf("Transport.Fail called %d times, want once", fails)
			}
			checkErr(t, "Send after the failure", ws.SendText("late"), conn.ErrClosed)
		})
	}
}

// TestFailedNotReached: when the engine sends a failure's close frame
// before the receiver gets there (its deadline passed), the messages before
// it and then the failure are still returned, and no second close frame
// is sent.
func TestFailedNotReached(t *testing.T) {
	m, ws := newSession(t)
	failure := &conn.CloseError{Code: conn.StatusInvalidPayloadData, Reason: "invalid UTF-8"}
	m.deliverText(t, "m1")
	m.fail(failure)
	m.expire()
	if st := ws.State(); st != conn.StateAborted || !isDone(ws.Done()) {
		t.Fatalf("after the engine sent the failure: State %v, Done closed %v", st, isDone(ws.Done()))
	}
	mustReceive(t, ws, conn.Text, "m1")
	if _, err := receive(t, ws); conn.CloseStatus(err) != failure.Code {
		t.Fatalf("Receive = %v, want %v", err, failure)
	}
	checkWire(t, m, closing(failure.Code, failure.Reason))
}

// TestDoneAtFinalState: Done's channel is closed, and State final, exactly
// when the WebSocket becomes closed, whichever way; receive calls then
// return the queued messages and then how it ended.
func TestDoneAtFinalState(t *testing.T) {
	isClosed := func(err error) bool { return errors.Is(err, conn.ErrClosed) }
	cases := []struct {
		name     string
		close    time.Duration // CloseTimeout
		write    time.Duration // write timeout
		before   func(t *testing.T, m *memTransport, ws conn.WebSocket)
		final    func(t *testing.T, m *memTransport, ws conn.WebSocket)
		state    conn.State
		peer     bool // the peer's close is queued after the messages
		received func(err error) bool
	}{
		{name: "close sent, then answered",
			before: func(t *testing.T, m *memTransport, ws conn.WebSocket) {
				checkErr(t, "SendClose", ws.SendClose(conn.StatusNormalClosure, "bye"), nil)
			},
			final: func(t *testing.T, m *memTransport, ws conn.WebSocket) { m.peerClose(conn.StatusNormalClosure, "") },
			state: conn.StateClosed, peer: true, received: isClosed},
		{name: "close received, then answered",
			before: func(t *testing.T, m *memTransport, ws conn.WebSocket) { m.peerClose(conn.StatusGoingAway, "away") },
			final: func(t *testing.T, m *memTransport, ws conn.WebSocket) {
				checkErr(t, "SendClose", ws.SendClose(conn.StatusGoingAway, ""), nil)
			},
			state: conn.StateClosed, peer: true, received: isClosed},
		{name: "close received, answered by the engine",
			before: func(t *testing.T, m *memTransport, ws conn.WebSocket) { m.peerClose(conn.StatusGoingAway, "away") },
			final:  func(t *testing.T, m *memTransport, ws conn.WebSocket) { m.expire() },
			state:  conn.StateClosed, peer: true, received: isClosed},
		{name: "close sent, not answered in time",
			before: func(t *testing.T, m *memTransport, ws conn.WebSocket) {
				checkErr(t, "SendClose", ws.SendClose(conn.StatusNormalClosure, ""), nil)
			},
			final: func(t *testing.T, m *memTransport, ws conn.WebSocket) { m.expire() },
			state: conn.StateAborted, received: func(err error) bool { return errors.Is(err, conn.ErrCloseTimeout) }},
		{name: "abort",
			final: func(t *testing.T, m *memTransport, ws conn.WebSocket) { ws.Abort() },
			state: conn.StateAborted, received: func(err error) bool { return errors.Is(err, conn.ErrAborted) }},
		{name: "abort after close sent",
			before: func(t *testing.T, m *memTransport, ws conn.WebSocket) {
				checkErr(t, "SendClose", ws.SendClose(conn.StatusNormalClosure, ""), nil)
			},
			final: func(t *testing.T, m *memTransport, ws conn.WebSocket) { ws.Abort() },
			state: conn.StateAborted, received: func(err error) bool { return errors.Is(err, conn.ErrAborted) }},
		{name: "connection lost",
			final: func(t *testing.T, m *memTransport, ws conn.WebSocket) { m.lost() },
			state: conn.StateAborted, received: func(err error) bool { return conn.CloseStatus(err) == conn.StatusAbnormalClosure }},
		{name: "write timeout", write: 20 * time.Millisecond,
			before: func(t *testing.T, m *memTransport, ws conn.WebSocket) { m.setFull(true) },
			final: func(t *testing.T, m *memTransport, ws conn.WebSocket) {
				checkErr(t, "Send", await(t, async(func() error { return ws.SendText("x") }), "Send"), conn.ErrWriteTimeout)
			},
			state: conn.StateAborted, received: func(err error) bool { return err != nil && !isClosed(err) }},
		{name: "close timeout", close: 20 * time.Millisecond,
			final: func(t *testing.T, m *memTransport, ws conn.WebSocket) {
				err := await(t, async(func() error { return ws.Close(conn.StatusNormalClosure, "") }), "Close")
				checkErr(t, "Close", err, conn.ErrCloseTimeout)
			},
			state: conn.StateAborted, received: func(err error) bool { return err != nil && !isClosed(err) }},
		{name: "close answered while Close waits",
			final: func(t *testing.T, m *memTransport, ws conn.WebSocket) {
				closed := async(func() error { return ws.Close(conn.StatusNormalClosure, "") })
				eventually(t, "the close frame", func() bool { return m.State() == conn.StateCloseSent })
				go m.peerClose(conn.StatusNormalClosure, "")
				checkErr(t, "Close", await(t, closed, "Close"), nil)
			},
			state: conn.StateClosed, peer: true, received: isClosed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			closeTimeout, writeTimeout := time.Hour, time.Hour
			if tc.close != 0 {
				closeTimeout = tc.close
			}
			if tc.write != 0 {
				writeTimeout = tc.write
			}
			m, ws := newSessionTimeouts(t, closeTimeout, writeTimeout)
			early := ws.Done()
			m.deliverText(t, "queued")
			if tc.before != nil {
				tc.before(t, m, ws)
			}
			if isDone(early) || ws.State().Final() {
				t.Fatalf("closed too early: State %v, Done closed %v", ws.State(), isDone(early))
			}
			tc.final(t, m, ws)
			if st := ws.State(); st != tc.state {
				t.Fatalf("State = %v, want %v", st, tc.state)
			}
			if !isDone(early) || !isDone(ws.Done()) {
				t.Fatalf("Done not closed in State %v", ws.State())
			}
			if notified, _ := m.closedWith(); !notified {
				t.Fatal("the session's Closed was never called")
			}
			mustReceive(t, ws, conn.Text, "queued")
			if tc.peer {
				if msg, err := receive(t, ws); err != nil || msg.Type != conn.Close {
					t.Fatalf("Receive = %+v, %v; want the peer's close", msg, err)
				}
			}
			for range 2 {
				if _, err := receive(t, ws); !tc.received(err) {
					t.Fatalf("Receive after the end = %v", err)
				}
			}
			ws.Abort()
			if st := ws.State(); st != tc.state {
				t.Fatalf("Abort changed the final State %v to %v", tc.state, st)
			}
		})
	}
}

// TestAbort: Abort ends the connection at once; received messages still
// queued stay readable, sends and closes are refused.
func TestAbort(t *testing.T) {
	m, ws := newSession(t)
	m.deliverText(t, "m1", "m2")
	ws.Abort()
	if st := ws.State(); st != conn.StateAborted || !isDone(ws.Done()) {
		t.Fatalf("after Abort: State %v, Done closed %v", st, isDone(ws.Done()))
	}
	if notified, err := m.closedWith(); !notified || !errors.Is(err, conn.ErrAborted) {
		t.Fatalf("the session was told %v (%v), want ErrAborted", err, notified)
	}
	mustReceive(t, ws, conn.Text, "m1")
	mustReceive(t, ws, conn.Text, "m2")
	for range 2 {
		if _, err := receive(t, ws); !errors.Is(err, conn.ErrAborted) {
			t.Fatalf("Receive after Abort = %v, want ErrAborted", err)
		}
	}
	checkErr(t, "Send", ws.SendText("x"), conn.ErrClosed)
	checkErr(t, "TrySend", ws.TrySend(conn.Binary, nil), conn.ErrClosed)
	checkErr(t, "SendClose", ws.SendClose(conn.StatusNormalClosure, ""), conn.ErrClosed)
	checkErr(t, "Close", await(t, async(func() error { return ws.Close(conn.StatusNormalClosure, "") }), "Close"), conn.ErrClosed)
	ws.Abort()
	if _, _, _, _, aborts := m.counts(); aborts != 2 {
		t.Fatalf("Transport.Abort called %d times, want 2", aborts)
	}
	checkWire(t, m)
}

// TestClose: Close sends the close frame and waits for the peer's, at most
// the close timeout; messages still queued stay readable.
func TestClose(t *testing.T) {
	t.Run("answered", func(t *testing.T) {
		m, ws := newSession(t)
		m.deliverText(t, "before")
		closed := async(func() error { return ws.Close(conn.StatusNormalClosure, "bye") })
		eventually(t, "the close frame", func() bool { return len(m.wire()) == 1 })
		if !pending(closed) || isDone(ws.Done()) || ws.State() != conn.StateCloseSent {
			t.Fatalf("Close did not wait for the peer: State %v", ws.State())
		}
		go m.peerClose(conn.StatusNormalClosure, "ok")
		checkErr(t, "Close", await(t, closed, "Close"), nil)
		if st := ws.State(); st != conn.StateClosed || !isDone(ws.Done()) {
			t.Fatalf("after Close: State %v, Done closed %v", st, isDone(ws.Done()))
		}
		if notified, err := m.closedWith(); !notified || err != nil {
			t.Fatalf("the session was told %v (%v), want nil", err, notified)
		}
		checkWire(t, m, closing(conn.StatusNormalClosure, "bye"))
		mustReceive(t, ws, conn.Text, "before")
		if msg, err := receive(t, ws); err != nil || msg.Type != conn.Close || msg.CloseStatus != conn.StatusNormalClosure || msg.CloseReason != "ok" {
			t.Fatalf("Receive = %+v, %v; want the peer's close", msg, err)
		}
		if _, err := receive(t, ws); !errors.Is(err, conn.ErrClosed) {
			t.Fatalf("Receive = %v, want ErrClosed", err)
		}
		checkErr(t, "Close again", ws.Close(conn.StatusNormalClosure, ""), conn.ErrClosed)
	})
	t.Run("times out", func(t *testing.T) {
		const d = 30 * time.Millisecond
		m, ws := newSessionTimeouts(t, d, timeout)
		start := time.Now()
		checkErr(t, "Close", await(t, async(func() error { return ws.Close(conn.StatusGoingAway, "") }), "Close"), conn.ErrCloseTimeout)
		if took := time.Since(start); took < d {
			t.Fatalf("Close gave up after %v, before the close timeout %v", took, d)
		}
		if _, _, _, _, aborts := m.counts(); aborts != 1 {
			t.Fatalf("Transport.Abort called %d times, want once", aborts)
		}
		if st := ws.State(); st != conn.StateAborted || !isDone(ws.Done()) {
			t.Fatalf("after the timeout: State %v, Done closed %v", st, isDone(ws.Done()))
		}
		checkWire(t, m, closing(conn.StatusGoingAway, ""))
	})
	t.Run("answers a received close", func(t *testing.T) {
		m, ws := newSession(t)
		m.peerClose(4001, "your turn")
		if msg, err := receive(t, ws); err != nil || msg.Type != conn.Close {
			t.Fatalf("Receive = %+v, %v", msg, err)
		}
		checkErr(t, "Close", await(t, async(func() error { return ws.Close(4001, "") }), "Close"), nil)
		if st := ws.State(); st != conn.StateClosed || !isDone(ws.Done()) {
			t.Fatalf("after Close: State %v, Done closed %v", st, isDone(ws.Done()))
		}
		checkWire(t, m, closing(4001, ""))
	})
	t.Run("no status", func(t *testing.T) {
		m, ws := newSession(t)
		checkErr(t, "SendClose", ws.SendClose(conn.StatusNoStatusReceived, ""), nil)
		checkWire(t, m, closing(conn.StatusNoStatusReceived, ""))
	})
	t.Run("after SendClose", func(t *testing.T) {
		m, ws := newSession(t)
		checkErr(t, "SendClose", ws.SendClose(conn.StatusNormalClosure, ""), nil)
		checkErr(t, "Close", await(t, async(func() error { return ws.Close(conn.StatusNormalClosure, "") }), "Close"), conn.ErrClosed)
		checkErr(t, "SendClose", ws.SendClose(conn.StatusNormalClosure, ""), conn.ErrClosed)
		checkWire(t, m, closing(conn.StatusNormalClosure, ""))
	})
	t.Run("aborted while waiting", func(t *testing.T) {
		m, ws := newSession(t)
		closed := async(func() error { return ws.Close(conn.StatusNormalClosure, "") })
		eventually(t, "the close frame", func() bool { return m.State() == conn.StateCloseSent })
		go ws.Abort()
		checkErr(t, "Close", await(t, closed, "Close"), conn.ErrAborted)
	})
	t.Run("failed while waiting", func(t *testing.T) {
		m, ws := newSession(t)
		closed := async(func() error { return ws.Close(conn.StatusNormalClosure, "") })
		eventually(t, "the close frame", func() bool { return m.State() == conn.StateCloseSent })
		go m.fail(&conn.CloseError{Code: conn.StatusProtocolError})
		if err := await(t, closed, "Close"); err == nil {
			t.Fatal("Close returned nil on a connection that failed")
		}
		if st := ws.State(); st != conn.StateAborted {
			t.Fatalf("State = %v, want Aborted", st)
		}
		checkWire(t, m, closing(conn.StatusNormalClosure, ""))
	})
}

// TestSendClose: SendClose answers a received close (Closed at once) or
// sends the first close frame without waiting (CloseSent).
func TestSendClose(t *testing.T) {
	t.Run("answers", func(t *testing.T) {
		m, ws := newSession(t)
		m.peerClose(conn.StatusGoingAway, "away")
		if msg, err := receive(t, ws); err != nil || msg.Type != conn.Close || msg.CloseStatus != conn.StatusGoingAway {
			t.Fatalf("Receive = %+v, %v", msg, err)
		}
		checkErr(t, "SendClose", ws.SendClose(conn.StatusGoingAway, ""), nil)
		if st := ws.State(); st != conn.StateClosed || !isDone(ws.Done()) {
			t.Fatalf("after SendClose: State %v, Done closed %v", st, isDone(ws.Done()))
		}
		if notified, err := m.closedWith(); !notified || err != nil {
			t.Fatalf("the session was told %v (%v), want nil", err, notified)
		}
		checkErr(t, "SendClose again", ws.SendClose(conn.StatusGoingAway, ""), conn.ErrClosed)
		checkWire(t, m, closing(conn.StatusGoingAway, ""))
		if _, err := receive(t, ws); !errors.Is(err, conn.ErrClosed) {
			t.Fatalf("Receive = %v, want ErrClosed", err)
		}
	})
	t.Run("first", func(t *testing.T) {
		m, ws := newSession(t)
		checkErr(t, "SendClose", await(t, async(func() error { return ws.SendClose(3000, "done") }), "SendClose"), nil)
		if st := ws.State(); st != conn.StateCloseSent || isDone(ws.Done()) {
			t.Fatalf("after SendClose: State %v, Done closed %v", st, isDone(ws.Done()))
		}
		m.deliverText(t, "still coming")
		mustReceive(t, ws, conn.Text, "still coming")
		checkWire(t, m, closing(3000, "done"))
	})
}

// TestCloseArguments: Close and SendClose refuse codes that may not be
// sent and reasons that do not fit, sending nothing.
func TestCloseArguments(t *testing.T) {
	long := strings.Repeat("€", 41) // 123 bytes
	cases := []struct {
		code   conn.StatusCode
		reason string
		want   error
	}{
		{conn.StatusNormalClosure, "", nil},
		{conn.StatusGoingAway, "going", nil},
		{conn.StatusUnsupportedData, "", nil},
		{conn.StatusInvalidPayloadData, "", nil},
		{conn.StatusBadGateway, "", nil},
		{3000, "", nil},
		{4999, long, nil},
		{conn.StatusNoStatusReceived, "", nil},
		{0, "", conn.ErrInvalidStatusCode},
		{999, "", conn.ErrInvalidStatusCode},
		{conn.StatusReserved, "", conn.ErrInvalidStatusCode},
		{conn.StatusNoStatusReceived, "why", conn.ErrInvalidStatusCode},
		{conn.StatusAbnormalClosure, "", conn.ErrInvalidStatusCode},
		{conn.StatusTLSHandshake, "", conn.ErrInvalidStatusCode},
		{1016, "", conn.ErrInvalidStatusCode},
		{2999, "", conn.ErrInvalidStatusCode},
		{5000, "", conn.ErrInvalidStatusCode},
		{conn.StatusNormalClosure, long + "x", conn.ErrInvalidCloseReason},
		{conn.StatusNormalClosure, "\xff", conn.ErrInvalidCloseReason},
		{4000, "\xe2\x82", conn.ErrInvalidCloseReason},
	}
	methods := []struct {
		name string
		call func(ws conn.WebSocket, code conn.StatusCode, reason string) error
	}{
		{"Close", func(ws conn.WebSocket, code conn.StatusCode, reason string) error { return ws.Close(code, reason) }},
		{"SendClose", func(ws conn.WebSocket, code conn.StatusCode, reason string) error { return ws.SendClose(code, reason) }},
	}
	for _, tc := range cases {
		for _, mt := range methods {
			t.Run(mt.name+"/"+tc.code.String()+"/"+tc.reason, func(t *testing.T) {
				m, ws := newSession(t)
				if tc.want == nil && mt.name == "Close" {
					// In StateCloseReceived Close does not wait.
					m.peerClose(conn.StatusNormalClosure, "")
					if _, err := receive(t, ws); err != nil {
						t.Fatal(err)
					}
				}
				err := await(t, async(func() error { return mt.call(ws, tc.code, tc.reason) }), mt.name)
				checkErr(t, mt.name, err, tc.want)
				if tc.want != nil {
					checkWire(t, m)
					if st := ws.State(); st != conn.StateOpen {
						t.Fatalf("State = %v after a refused close, want Open", st)
					}
					return
				}
				checkWire(t, m, closing(tc.code, tc.reason))
			})
		}
	}
}

// TestAccessors: Subprotocol, RemoteAddr and Unsent are the transport's.
func TestAccessors(t *testing.T) {
	m, ws := newSession(t)
	if ws.Subprotocol() != "chat.v1" || ws.RemoteAddr().String() != "192.0.2.7:4242" {
		t.Fatalf("Subprotocol %q, RemoteAddr %v", ws.Subprotocol(), ws.RemoteAddr())
	}
	m.deliverText(t, "a", "b")
	mustReceive(t, ws, conn.Text, "a") // corked: the reply waits
	checkErr(t, "Send", ws.SendText("12345"), nil)
	if n := ws.Unsent(); n != 5 {
		t.Fatalf("Unsent = %d, want 5", n)
	}
	mustReceive(t, ws, conn.Text, "b")
	checkErr(t, "Send", ws.SendText("x"), nil)
	if n := ws.Unsent(); n != 0 {
		t.Fatalf("Unsent after a flushed send = %d, want 0", n)
	}
}

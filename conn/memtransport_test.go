package conn_test

import (
	"fmt"
	"net"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/volley-ws/volley/conn"
	"github.com/volley-ws/volley/internal/bufpool"
	"github.com/volley-ws/volley/internal/session"
)

// This file holds memTransport, an in-memory session.Transport: the
// engine's side of a blocking WebSocket without sockets or event loops. It
// records what the session asks it to put on the wire and runs a small
// model of the engine's close state machine (engine/closing.go), so that
// the conn.WebSocket contract can be tested through session.New alone.
// Its methods named in lower case play the event loop: they deliver what
// "the peer" sent and end the connection the way the engine does.

// timeout bounds every wait of these tests: a call that should return and
// does not fails its test instead of hanging the run.
const timeout = 5 * time.Second

// watchdog bounds a whole test (see newSessionTimeouts).
const watchdog = time.Minute

// wireKind tells a data frame from a close frame.
type wireKind uint8

const (
	dataFrame wireKind = iota + 1
	closeFrame
)

// wire is one frame the session asked the transport to send, in order.
type wire struct {
	Kind wireKind
	// A data frame: the message type given to Send, whether it starts
	// (First) or ends (Fin) a message, a copy of its payload, and Send's
	// wait and flush arguments.
	Type        conn.MessageType
	First, Fin  bool
	Payload     []byte
	Wait, Flush bool
	// A close frame: its code (StatusNoStatusReceived for one without a
	// code) and reason.
	Code   conn.StatusCode
	Reason string
}

// data returns a data frame as the transport records it.
func data(t conn.MessageType, first, fin bool, payload string, wait, flush bool) wire {
	return wire{Kind: dataFrame, Type: t, First: first, Fin: fin, Payload: []byte(payload), Wait: wait, Flush: flush}
}

// whole returns the frame of a whole message sent with Send (wait, flush).
func whole(t conn.MessageType, payload string) wire { return data(t, true, true, payload, true, true) }

// closing returns a close frame as the transport records it.
func closing(code conn.StatusCode, reason string) wire {
	return wire{Kind: closeFrame, Code: code, Reason: reason}
}

func (w wire) String() string {
	if w.Kind == closeFrame {
		return "close(" + w.Code.String() + ", " + strconv.Quote(w.Reason) + ")"
	}
	var b strings.Builder
	b.WriteString(w.Type.String())
	b.WriteString("(")
	b.WriteString(strconv.Quote(string(w.Payload)))
	for _, f := range []struct {
		on   bool
		name string
	}{{w.First, "first"}, {w.Fin, "fin"}, {w.Wait, "wait"}, {w.Flush, "flush"}} {
		if f.on {
			b.WriteString(" " + f.name)
		}
	}
	b.WriteString(")")
	return b.String()
}

// memTransport is an in-memory session.Transport with a model of the
// engine's close state machine:
//
//	Close:  Open -> CloseSent; CloseReceived -> Closed (Closed(nil))
//	peer's close: Open -> CloseReceived; CloseSent -> Closed (Closed(nil))
//	Fail:   the pending failure's close frame, -> Aborted (Closed(failure))
//	Abort:  -> Aborted, unsent data dropped (Closed(conn.ErrAborted))
//
// Final states never change, and the session's Closed is called once,
// outside the transport's lock, when the state first becomes final.
type memTransport struct {
	closeTimeout time.Duration // CloseTimeout's answer
	writeTimeout time.Duration // how long a waiting Send waits for room
	s            *session.Session

	mu         sync.Mutex
	state      conn.State
	sendClosed bool             // a close frame is queued or the connection is gone: sends fail
	pending    *conn.CloseError // a failure the receiver has yet to reach (see fail)
	notified   bool             // the session's Closed was called
	closedErr  error            // what Closed was called with
	full       bool             // over the unsent-bytes limit
	room       chan struct{}    // closed when there is room again (or the connection is gone)
	waiters    int              // Sends waiting for room
	frames     []wire
	unsent     int
	flushes    int // Flush calls
	consumed   int // bytes reported by Consumed
	delivered  int // bytes Deliver and PeerClose added
	fails      []*conn.CloseError
	aborts     int      // Abort calls
	topics     []string // Subscribe's, in order
}

// newSession returns an open Session over a new memTransport whose close
// and write timeouts never pass in a test (a call that waits for them
// fails the test's own timeout first). The connection is lost when the
// test ends, which releases any call still waiting.
func newSession(t testing.TB) (*memTransport, *session.Session) {
	return newSessionTimeouts(t, time.Hour, time.Hour)
}

// newSessionTimeouts is newSession with the given close and write timeouts.
func newSessionTimeouts(t testing.TB, closeTimeout, writeTimeout time.Duration) (*memTransport, *session.Session) {
	// A test stuck on a call that no await bounds ends the run with every
	// goroutine's stack, well before go test's own timeout.
	stuck := time.AfterFunc(watchdog, func() {
		buf := make([]byte, 1<<20)
		panic(fmt.Sprintf("%s stuck for %v:\n%s", t.Name(), watchdog, buf[:runtime.Stack(buf, true)]))
	})
	t.Cleanup(func() { stuck.Stop() })
	m := &memTransport{closeTimeout: closeTimeout, writeTimeout: writeTimeout, state: conn.StateOpen}
	m.s = session.New(m, &bufpool.Pool{})
	t.Cleanup(func() { m.lost() })
	return m, m.s
}

var _ session.Transport = (*memTransport)(nil)

// setState moves to st unless the state is final, and returns the previous
// state; mu must be held.
func (m *memTransport) setState(st conn.State) conn.State {
	prev := m.state
	if !prev.Final() {
		m.state = st
	}
	return prev
}

// finishing reports whether the caller must call the session's Closed: the
// state is final and nobody did yet. mu must be held.
func (m *memTransport) finishing(err error) bool {
	if m.notified || !m.state.Final() {
		return false
	}
	m.notified = true
	m.closedErr = err
	return true
}

// appendClose records this side's close frame; mu must be held.
func (m *memTransport) appendClose(code conn.StatusCode, reason string) {
	m.frames = append(m.frames, closing(code, reason))
	m.sendClosed = true
}

// openRoom releases Sends waiting for room; mu must be held.
func (m *memTransport) openRoom() {
	if m.room != nil {
		close(m.room)
		m.room = nil
	}
}

// Send implements session.Transport.
func (m *memTransport) Send(t conn.MessageType, first, fin bool, payload []byte, wait, flush bool) error {
	m.mu.Lock()
	if !m.sendClosed && m.full {
		if !wait {
			m.mu.Unlock()
			return conn.ErrSendQueueFull
		}
		timer := time.NewTimer(m.writeTimeout)
		defer timer.Stop()
		for !m.sendClosed && m.full {
			room := m.room
			m.waiters++
			m.mu.Unlock()
			select {
			case <-room:
				m.mu.Lock()
				m.waiters--
			case <-timer.C:
				m.mu.Lock()
				m.waiters--
				m.mu.Unlock()
				m.abort(conn.ErrWriteTimeout)
				return conn.ErrWriteTimeout
			}
		}
	}
	if m.sendClosed {
		m.mu.Unlock()
		return conn.ErrClosed
	}
	m.frames = append(m.frames, wire{
		Kind: dataFrame, Type: t, First: first, Fin: fin,
		Payload: append([]byte{}, payload...), Wait: wait, Flush: flush,
	})
	m.unsent += len(payload)
	if flush {
		m.unsent = 0
	}
	m.mu.Unlock()
	return nil
}

// Flush implements session.Transport.
func (m *memTransport) Flush() {
	m.mu.Lock()
	m.flushes++
	m.unsent = 0
	m.mu.Unlock()
}

// Close implements session.Transport.
func (m *memTransport) Close(code conn.StatusCode, reason string) error {
	m.mu.Lock()
	if m.sendClosed {
		m.mu.Unlock()
		return conn.ErrClosed
	}
	switch m.state {
	case conn.StateOpen:
		m.setState(conn.StateCloseSent)
		m.appendClose(code, reason)
		m.mu.Unlock()
		return nil
	case conn.StateCloseReceived:
		m.setState(conn.StateClosed)
		m.appendClose(code, reason)
		notify := m.finishing(nil)
		m.mu.Unlock()
		if notify {
			m.s.Closed(nil)
		}
		return nil
	}
	m.mu.Unlock()
	return conn.ErrClosed
}

// Fail implements session.Transport: it acts only on a failure the
// receiver has yet to reach, as the engine's does.
func (m *memTransport) Fail(err *conn.CloseError) {
	m.mu.Lock()
	m.fails = append(m.fails, err)
	act := m.pending != nil
	m.pending = nil
	m.mu.Unlock()
	if act {
		m.failNow(err)
	}
}

// failNow sends a failure's close frame, unless a close frame went out
// already or the failure is the TCP connection ending (1006 never travels),
// and makes the state Aborted.
func (m *memTransport) failNow(err *conn.CloseError) {
	m.mu.Lock()
	if !m.sendClosed && err.Code != conn.StatusAbnormalClosure {
		m.appendClose(err.Code, err.Reason)
	}
	m.setState(conn.StateAborted)
	notify := m.finishing(err)
	m.mu.Unlock()
	if notify {
		m.s.Closed(err)
	}
}

// Abort implements session.Transport.
func (m *memTransport) Abort() {
	m.mu.Lock()
	m.aborts++
	m.mu.Unlock()
	m.abort(conn.ErrAborted)
}

// abort ends the connection at once with err: unsent data is dropped,
// waiting Sends return, the state becomes Aborted.
func (m *memTransport) abort(err error) {
	m.mu.Lock()
	m.sendClosed = true
	m.unsent = 0
	m.openRoom()
	m.setState(conn.StateAborted)
	notify := m.finishing(err)
	m.mu.Unlock()
	if notify {
		m.s.Closed(err)
	}
}

// State implements session.Transport.
func (m *memTransport) State() conn.State {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.state
}

// Unsent implements session.Transport.
func (m *memTransport) Unsent() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.unsent
}

// Consumed implements session.Transport.
func (m *memTransport) Consumed(n int) {
	m.mu.Lock()
	m.consumed += n
	m.mu.Unlock()
}

// Subprotocol implements session.Transport.
func (m *memTransport) Subprotocol() string { return "chat.v1" }

// RemoteAddr implements session.Transport.
func (m *memTransport) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(192, 0, 2, 7), Port: 4242}
}

// CloseTimeout implements session.Transport.
func (m *memTransport) CloseTimeout() time.Duration { return m.closeTimeout }

// The event loop's side.

// deliver hands the session a whole message from the peer, as the engine's
// loop does, and returns the bytes Deliver added.
func (m *memTransport) deliver(t testing.TB, typ conn.MessageType, payload []byte) int {
	t.Helper()
	n, ok := m.push(typ, payload, 0)
	if !ok {
		t.Fatalf("Deliver(%v, %d bytes) refused the message", typ, len(payload))
	}
	return n
}

// push is Deliver with the unread limit max, counting the bytes added.
// Any goroutine.
func (m *memTransport) push(typ conn.MessageType, payload []byte, max int) (int, bool) {
	n, ok := m.s.Deliver(typ, payload, max)
	m.mu.Lock()
	m.delivered += n
	m.mu.Unlock()
	return n, ok
}

// deliverText delivers Text messages.
func (m *memTransport) deliverText(t testing.TB, msgs ...string) {
	t.Helper()
	for _, s := range msgs {
		m.deliver(t, conn.Text, []byte(s))
	}
}

// peerClose is the peer's close frame arriving: queued after the messages
// before it, and, answering this side's close, the end of the closing
// handshake. (The engine hands Closed the peer's close as a CloseError
// then; the session, whose stream PeerClose already ended, keeps nil as
// its end, which is what this model passes.)
func (m *memTransport) peerClose(code conn.StatusCode, reason string) {
	m.mu.Lock()
	switch m.state {
	case conn.StateOpen:
		m.setState(conn.StateCloseReceived)
		m.mu.Unlock()
		n := m.s.PeerClose(code, []byte(reason))
		m.mu.Lock()
		m.delivered += n
		m.mu.Unlock()
	case conn.StateCloseSent:
		m.setState(conn.StateClosed)
		m.mu.Unlock()
		n := m.s.PeerClose(code, []byte(reason))
		m.mu.Lock()
		m.delivered += n
		notify := m.finishing(nil)
		m.mu.Unlock()
		if notify {
			m.s.Closed(nil)
		}
	default:
		m.mu.Unlock()
	}
}

// fail is the engine failing the connection because of what the peer sent
// after the messages delivered so far: in StateOpen the receiver sends the
// close frame when it reaches the failure (Fail); otherwise at once.
func (m *memTransport) fail(err *conn.CloseError) {
	m.mu.Lock()
	if m.state != conn.StateOpen {
		m.mu.Unlock()
		m.failNow(err)
		return
	}
	m.pending = err
	m.mu.Unlock()
	m.s.Failed(err)
}

// expire is the loop acting on a passed close deadline: a failure the
// receiver did not reach is sent, an unanswered close aborts the
// connection, an unanswered peer's close is answered with its code.
func (m *memTransport) expire() {
	m.mu.Lock()
	pending, st := m.pending, m.state
	m.pending = nil
	m.mu.Unlock()
	switch {
	case pending != nil:
		m.failNow(pending)
	case st == conn.StateCloseSent:
		m.abort(conn.ErrCloseTimeout)
	case st == conn.StateCloseReceived:
		code := m.s.CloseStatus()
		if code == 0 {
			code = conn.StatusNormalClosure
		}
		_ = m.Close(code, "")
	}
}

// errAbnormal is how the engine reports a TCP connection that ended
// without a closing handshake.
var errAbnormal = &conn.CloseError{Code: conn.StatusAbnormalClosure, Reason: "connection closed without a close handshake"}

// lost is the TCP connection ending: nothing more is sent, the state
// becomes Aborted, and the session learns why.
func (m *memTransport) lost() {
	m.mu.Lock()
	m.pending = nil
	m.mu.Unlock()
	m.abort(errAbnormal)
}

// setFull puts the transport over (or back under) the unsent-bytes limit.
func (m *memTransport) setFull(full bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.full = full
	if full && m.room == nil {
		m.room = make(chan struct{})
	}
	if !full {
		m.openRoom()
	}
}

// Snapshots, for the tests' checks.

func (m *memTransport) wire() []wire {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]wire(nil), m.frames...)
}

func (m *memTransport) counts() (flushes, consumed, delivered, fails, aborts int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.flushes, m.consumed, m.delivered, len(m.fails), m.aborts
}

func (m *memTransport) closedWith() (notified bool, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.notified, m.closedErr
}

func (m *memTransport) sendWaiters() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.waiters
}

// Helpers shared by the tests.

// async runs f on a new goroutine and returns the channel of its result.
func async[T any](f func() T) <-chan T {
	ch := make(chan T, 1)
	go func() { ch <- f() }()
	return ch
}

// await returns what ch delivers, failing the test if that takes longer
// than timeout.
func await[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(timeout):
		t.Fatalf("%s did not return within %v", what, timeout)
		panic("unreachable")
	}
}

// pending reports whether ch has not delivered yet.
func pending[T any](ch <-chan T) bool {
	select {
	case v := <-ch:
		_ = v
		return false
	default:
		return true
	}
}

type received struct {
	msg conn.Message
	err error
}

// receive calls ws.Receive, bounded in time.
func receive(t testing.TB, ws conn.WebSocket) (conn.Message, error) {
	t.Helper()
	r := await(t, async(func() received {
		m, err := ws.Receive()
		return received{m, err}
	}), "Receive")
	return r.msg, r.err
}

type receivedFrame struct {
	res conn.ReceiveResult
	err error
}

// receiveFrame calls ws.ReceiveFrame, bounded in time.
func receiveFrame(t testing.TB, ws conn.WebSocket, buf []byte) (conn.ReceiveResult, error) {
	t.Helper()
	r := await(t, async(func() receivedFrame {
		res, err := ws.ReceiveFrame(buf)
		return receivedFrame{res, err}
	}), "ReceiveFrame")
	return r.res, r.err
}

// mustReceive receives a message that must be of type typ with data want.
func mustReceive(t testing.TB, ws conn.WebSocket, typ conn.MessageType, want string) {
	t.Helper()
	m, err := receive(t, ws)
	if err != nil {
		t.Fatalf("Receive: %v, want %v %q", err, typ, want)
	}
	if m.Type != typ || string(m.Data) != want {
		t.Fatalf("Receive = %v %q, want %v %q", m.Type, m.Data, typ, want)
	}
}

// eventually polls cond until it holds, failing the test after timeout.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// waitParked waits until a goroutine started by the running test (its
// stack holds one of the test function's closures) is blocked, neither
// running nor runnable, inside a function whose name contains fn: a
// receiver parked waiting for messages, say.
func waitParked(t testing.TB, fn string) {
	t.Helper()
	test, _, _ := strings.Cut(t.Name(), "/")
	test = "conn_test." + test + ".func"
	eventually(t, "a goroutine parked in "+fn, func() bool {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		for _, g := range strings.Split(string(buf), "\n\n") {
			header, _, _ := strings.Cut(g, "\n")
			if strings.Contains(g, fn) && strings.Contains(g, test) &&
				!strings.Contains(header, "[running") && !strings.Contains(header, "[runnable") {
				return true
			}
		}
		return false
	})
}

// isDone reports whether ch is closed.
func isDone(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// Subscribe implements session.Transport: it records the topic once.
func (m *memTransport) Subscribe(topic string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.sendClosed {
		return conn.ErrClosed
	}
	if !slices.Contains(m.topics, topic) {
		m.topics = append(m.topics, topic)
	}
	return nil
}

// Unsubscribe implements session.Transport.
func (m *memTransport) Unsubscribe(topic string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.topics = slices.DeleteFunc(m.topics, func(s string) bool { return s == topic })
	return nil
}

// Publish implements session.Transport: the in-memory connection has no
// other subscribers to reach.
func (m *memTransport) Publish(string, conn.MessageType, []byte) error { return nil }

// Topics implements session.Transport.
func (m *memTransport) Topics() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.topics)
}

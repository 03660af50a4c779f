package conn_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/volley-ws/volley/conn"
	"github.com/volley-ws/volley/internal/leakcheck"
)

// The receive side of conn.WebSocket (Receive, ReceiveContext,
// ReceiveFrame, ReceiveFrameContext), through a Session over memTransport.

// TestReceiveInOrder: messages come out whole, with their types, in the
// order they were delivered, whether they were queued before Receive or
// arrived while it waited.
func TestReceiveInOrder(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789abcdef"), 8192)
	msgs := []struct {
		typ  conn.MessageType
		data []byte
	}{
		{conn.Text, []byte("one")},
		{conn.Binary, []byte{0, 1, 0xff}},
		{conn.Text, nil},
		{conn.Binary, big},
		{conn.Text, []byte("dernière")},
	}
	check := func(t *testing.T, i int, m conn.Message, err error) {
		t.Helper()
		if err != nil || m.Type != msgs[i].typ || !bytes.Equal(m.Data, msgs[i].data) {
			t.Fatalf("message %d: %v, %d bytes, %v; want %v, %d bytes", i, m.Type, len(m.Data), err, msgs[i].typ, len(msgs[i].data))
		}
	}
	t.Run("queued", func(t *testing.T) {
		m, ws := newSession(t)
		for _, msg := range msgs {
			m.deliver(t, msg.typ, msg.data)
		}
		for i := range msgs {
			got, err := receive(t, ws)
			check(t, i, got, err)
		}
	})
	t.Run("one at a time", func(t *testing.T) {
		m, ws := newSession(t)
		for i, msg := range msgs {
			got := async(func() received { m, err := ws.Receive(); return received{m, err} })
			waitParked(t, "session.(*Session).takeBatch")
			m.deliver(t, msg.typ, msg.data)
			r := await(t, got, "Receive")
			check(t, i, r.msg, r.err)
		}
	})
}

// TestReceiveData: Message.Data is a copy of what was delivered, and it
// stays intact until the next receive call, whatever is delivered
// meanwhile.
func TestReceiveData(t *testing.T) {
	m, ws := newSession(t)
	payload := []byte("first message")
	m.deliver(t, conn.Text, payload)
	m.deliver(t, conn.Text, []byte("second"))
	copy(payload, "XXXXXXXXXXXXX")
	first, err := receive(t, ws)
	if err != nil || string(first.Data) != "first message" {
		t.Fatalf("Receive = %q, %v; want the delivered bytes", first.Data, err)
	}
	for i := range 64 {
		m.deliver(t, conn.Binary, bytes.Repeat([]byte{byte(i)}, 1024))
	}
	if string(first.Data) != "first message" {
		t.Fatalf("Data changed to %q before the next receive call", first.Data)
	}
	if first.Text() != "first message" {
		t.Fatalf("Text() = %q", first.Text())
	}
	mustReceive(t, ws, conn.Text, "second")
	for i := range 64 {
		mustReceive(t, ws, conn.Binary, strings.Repeat(string(rune(i)), 1024))
	}
}

// TestReceiveClose: the peer's close arrives as a Close message after the
// messages before it; State says CloseReceived only once the receiver got
// it; later receive calls return ErrClosed.
func TestReceiveClose(t *testing.T) {
	cases := []struct {
		name   string
		before []string
		code   conn.StatusCode
		reason string
	}{
		{"code and reason", nil, conn.StatusNormalClosure, "bye"},
		{"no status", nil, conn.StatusNoStatusReceived, ""},
		{"application code", nil, 4000, "done"},
		{"after messages", []string{"a", "b"}, conn.StatusGoingAway, "restart"},
	}
	receivers := []struct {
		name    string
		receive func(t *testing.T, ws conn.WebSocket) (conn.Message, error)
	}{
		{"Receive", func(t *testing.T, ws conn.WebSocket) (conn.Message, error) { return receive(t, ws) }},
		{"ReceiveContext", func(t *testing.T, ws conn.WebSocket) (conn.Message, error) {
			r := await(t, async(func() received {
				m, err := ws.ReceiveContext(context.Background())
				return received{m, err}
			}), "ReceiveContext")
			return r.msg, r.err
		}},
		{"ReceiveFrame", func(t *testing.T, ws conn.WebSocket) (conn.Message, error) {
			buf := make([]byte, 16)
			res, err := receiveFrame(t, ws, buf)
			if err == nil && res.Type != conn.Close && !res.EndOfMessage {
				t.Fatalf("ReceiveFrame split a short message: %+v", res)
			}
			if err == nil && res.Type == conn.Close && (res.Count != 0 || !res.EndOfMessage) {
				t.Fatalf("ReceiveFrame's close: %+v, want Count 0 and EndOfMessage", res)
			}
			return conn.Message{Type: res.Type, Data: buf[:res.Count], CloseStatus: res.CloseStatus, CloseReason: res.CloseStatusDescription}, err
		}},
	}
	for _, tc := range cases {
		for _, r := range receivers {
			t.Run(tc.name+"/"+r.name, func(t *testing.T) {
				m, ws := newSession(t)
				m.deliverText(t, tc.before...)
				m.peerClose(tc.code, tc.reason)
				for _, want := range tc.before {
					if st := ws.State(); st != conn.StateOpen {
						t.Fatalf("State with the close still queued = %v, want Open", st)
					}
					msg, err := r.receive(t, ws)
					if err != nil || msg.Type != conn.Text || string(msg.Data) != want {
						t.Fatalf("got %v %q, %v; want %q", msg.Type, msg.Data, err, want)
					}
				}
				if st := ws.State(); st != conn.StateOpen {
					t.Fatalf("State before the close is received = %v, want Open", st)
				}
				msg, err := r.receive(t, ws)
				if err != nil || msg.Type != conn.Close || msg.CloseStatus != tc.code || msg.CloseReason != tc.reason || len(msg.Data) != 0 {
					t.Fatalf("got %+v, %v; want the close %v %q", msg, err, tc.code, tc.reason)
				}
				if st := ws.State(); st != conn.StateCloseReceived {
					t.Fatalf("State after the close = %v, want CloseReceived", st)
				}
				if ws.CloseStatus() != tc.code || ws.CloseStatusDescription() != tc.reason {
					t.Fatalf("CloseStatus = %v %q, want %v %q", ws.CloseStatus(), ws.CloseStatusDescription(), tc.code, tc.reason)
				}
				for range 2 {
					if _, err := r.receive(t, ws); !errors.Is(err, conn.ErrClosed) {
						t.Fatalf("after the close: %v, want ErrClosed", err)
					}
				}
				if isDone(ws.Done()) {
					t.Fatal("Done closed before the close was answered")
				}
			})
		}
	}
}

// TestReceiveFrame: a message is handed over in pieces of the buffer's
// size, EndOfMessage on its last bytes, never spanning two messages.
func TestReceiveFrame(t *testing.T) {
	type piece struct {
		data string
		typ  conn.MessageType
		end  bool
	}
	cases := []struct {
		name string
		msgs []string // "t:" or "b:" and the data
		buf  int
		want []piece
	}{
		{"buffer smaller", []string{"t:hello volley"}, 4,
			[]piece{{"hell", conn.Text, false}, {"o vo", conn.Text, false}, {"lley", conn.Text, true}}},
		{"uneven split", []string{"t:hello"}, 2,
			[]piece{{"he", conn.Text, false}, {"ll", conn.Text, false}, {"o", conn.Text, true}}},
		{"buffer of the message's size", []string{"b:abcd"}, 4,
			[]piece{{"abcd", conn.Binary, true}}},
		{"buffer larger", []string{"t:hi"}, 64,
			[]piece{{"hi", conn.Text, true}}},
		{"empty message", []string{"t:"}, 8,
			[]piece{{"", conn.Text, true}}},
		{"one byte at a time", []string{"b:xyz"}, 1,
			[]piece{{"x", conn.Binary, false}, {"y", conn.Binary, false}, {"z", conn.Binary, true}}},
		{"pieces stop at message ends", []string{"t:abc", "b:de", "t:f"}, 2,
			[]piece{{"ab", conn.Text, false}, {"c", conn.Text, true}, {"de", conn.Binary, true}, {"f", conn.Text, true}}},
		{"split inside a character", []string{"t:é!"}, 1,
			[]piece{{"\xc3", conn.Text, false}, {"\xa9", conn.Text, false}, {"!", conn.Text, true}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, ws := newSession(t)
			for _, s := range tc.msgs {
				typ := conn.Text
				if s[0] == 'b' {
					typ = conn.Binary
				}
				m.deliver(t, typ, []byte(s[2:]))
			}
			buf := make([]byte, tc.buf)
			for i, want := range tc.want {
				res, err := receiveFrame(t, ws, buf)
				if err != nil || string(buf[:res.Count]) != want.data || res.Type != want.typ || res.EndOfMessage != want.end {
					t.Fatalf("piece %d: %q %+v, %v; want %q %v end=%v", i, buf[:res.Count], res, err, want.data, want.typ, want.end)
				}
			}
			m.deliverText(t, "after")
			mustReceive(t, ws, conn.Text, "after")
		})
	}
}

// TestReceiveMessageInProgress: while a message is half read with
// ReceiveFrame, Receive and ReceiveContext return ErrMessageInProgress and
// take nothing.
func TestReceiveMessageInProgress(t *testing.T) {
	m, ws := newSession(t)
	m.deliverText(t, "hello", "next")
	buf := make([]byte, 2)
	if res, err := receiveFrame(t, ws, buf); err != nil || string(buf[:res.Count]) != "he" {
		t.Fatalf("ReceiveFrame = %q, %v", buf[:res.Count], err)
	}
	if _, err := receive(t, ws); !errors.Is(err, conn.ErrMessageInProgress) {
		t.Fatalf("Receive during a message = %v, want ErrMessageInProgress", err)
	}
	if _, err := ws.ReceiveContext(context.Background()); !errors.Is(err, conn.ErrMessageInProgress) {
		t.Fatalf("ReceiveContext during a message = %v, want ErrMessageInProgress", err)
	}
	for _, want := range []string{"ll", "o"} {
		if res, err := receiveFrame(t, ws, buf); err != nil || string(buf[:res.Count]) != want || res.EndOfMessage != (want == "o") {
			t.Fatalf("ReceiveFrame = %q %+v, %v; want %q", buf[:res.Count], res, err, want)
		}
	}
	mustReceive(t, ws, conn.Text, "next")
}

// receiveCalls are the context-taking receive methods, with a Receive
// shaped result; buf is ReceiveFrameContext's buffer.
var receiveCalls = []struct {
	name string
	call func(ctx context.Context, ws conn.WebSocket, buf []byte) (string, error)
}{
	{"ReceiveContext", func(ctx context.Context, ws conn.WebSocket, _ []byte) (string, error) {
		m, err := ws.ReceiveContext(ctx)
		return string(m.Data), err
	}},
	{"ReceiveFrameContext", func(ctx context.Context, ws conn.WebSocket, buf []byte) (string, error) {
		res, err := ws.ReceiveFrameContext(ctx, buf)
		if err == nil && !res.EndOfMessage {
			return "", fmt.Errorf("a short message came in pieces: %+v", res)
		}
		return string(buf[:res.Count]), err
	}},
}

type ctxResult struct {
	data string
	err  error
}

// TestReceiveContext: a context that is done returns its error and
// consumes nothing: the next call returns the next message whole, and
// the buffer is untouched.
func TestReceiveContext(t *testing.T) {
	ctxs := []struct {
		name  string
		ctx   func() (context.Context, context.CancelFunc)
		while func(cancel context.CancelFunc) // run once the receiver waits
		want  error
	}{
		{"cancelled before", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx, cancel
		}, nil, context.Canceled},
		{"deadline passed before", func() (context.Context, context.CancelFunc) {
			return context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
		}, nil, context.DeadlineExceeded},
		{"cancelled while waiting", func() (context.Context, context.CancelFunc) {
			return context.WithCancel(context.Background())
		}, func(cancel context.CancelFunc) { cancel() }, context.Canceled},
		{"deadline passes", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 30*time.Millisecond)
		}, nil, context.DeadlineExceeded},
		{"cancelled with a cause", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancelCause(context.Background())
			return ctx, func() { cancel(errors.New("shutting down")) }
		}, func(cancel context.CancelFunc) { cancel() }, context.Canceled},
	}
	for _, c := range ctxs {
		for _, rc := range receiveCalls {
			t.Run(c.name+"/"+rc.name, func(t *testing.T) {
				m, ws := newSession(t)
				ctx, cancel := c.ctx()
				defer cancel()
				buf := bytes.Repeat([]byte{'z'}, 16)
				got := async(func() ctxResult {
					d, err := rc.call(ctx, ws, buf)
					return ctxResult{d, err}
				})
				start := time.Now()
				if c.while != nil {
					waitParked(t, "session.(*Session).takeBatch")
					start = time.Now()
					c.while(cancel)
				}
				r := await(t, got, rc.name)
				if d := time.Since(start); d > time.Second {
					t.Errorf("%s returned %v after its context was done", rc.name, d)
				}
				if !errors.Is(r.err, c.want) {
					t.Fatalf("%s = %q, %v; want %v", rc.name, r.data, r.err, c.want)
				}
				if !bytes.Equal(buf, bytes.Repeat([]byte{'z'}, 16)) {
					t.Fatalf("the buffer was written: %q", buf)
				}
				m.deliverText(t, "next")
				mustReceive(t, ws, conn.Text, "next")
				if st := ws.State(); st != conn.StateOpen {
					t.Fatalf("State = %v, want Open", st)
				}
				_, consumed, delivered, _, _ := m.counts()
				if consumed != 0 || delivered == 0 {
					t.Fatalf("consumed %d of %d bytes before the batch was recycled", consumed, delivered)
				}
			})
		}
	}
}

// TestReceiveContextQueued: with messages queued, a done context may
// return them or its error, but never loses one.
func TestReceiveContextQueued(t *testing.T) {
	for _, rc := range receiveCalls {
		t.Run(rc.name, func(t *testing.T) {
			m, ws := newSession(t)
			m.deliverText(t, "a", "b")
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			buf := make([]byte, 16)
			var got []string
			for len(got) < 2 {
				r := await(t, async(func() ctxResult {
					d, err := rc.call(ctx, ws, buf)
					return ctxResult{d, err}
				}), rc.name)
				switch {
				case errors.Is(r.err, context.Canceled):
					mustReceive(t, ws, conn.Text, []string{"a", "b"}[len(got)])
					got = append(got, []string{"a", "b"}[len(got)])
				case r.err != nil:
					t.Fatalf("%s = %v", rc.name, r.err)
				default:
					got = append(got, r.data)
				}
			}
			if got[0] != "a" || got[1] != "b" {
				t.Fatalf("received %q, want a and b", got)
			}
		})
	}
}

// TestReceiveContextRace: a receiver whose contexts keep expiring while
// messages arrive gets every message once, in order, and leaves no
// goroutine behind.
func TestReceiveContextRace(t *testing.T) {
	before := leakcheck.IDs()
	const n = 500
	m, ws := newSession(t)
	produced := async(func() struct{} {
		for i := range n {
			m.push(conn.Text, []byte(fmt.Sprint(i)), 0)
			if i%7 == 0 {
				time.Sleep(50 * time.Microsecond)
			}
		}
		return struct{}{}
	})
	consumed := async(func() error {
		buf := make([]byte, 8)
		expired := 0
		for i := 0; i < n; {
			ctx, cancel := context.WithTimeout(context.Background(), time.Duration(i%5)*20*time.Microsecond)
			d, err := receiveCalls[i%2].call(ctx, ws, buf)
			cancel()
			switch {
			case errors.Is(err, context.DeadlineExceeded):
				expired++
				continue
			case err != nil:
				return fmt.Errorf("message %d: %v", i, err)
			case d != fmt.Sprint(i):
				return fmt.Errorf("message %d: got %q", i, d)
			}
			i++
		}
		return nil
	})
	await(t, produced, "the producer")
	if err := await(t, consumed, "the consumer"); err != nil {
		t.Fatal(err)
	}
	if leaked := leakcheck.Leaked(before, timeout); len(leaked) > 0 {
		t.Fatalf("%d goroutine(s) left behind:\n%s", len(leaked), strings.Join(leaked, "\n\n"))
	}
}

// TestReceiveEnds: a receiver waiting when the connection ends is woken,
// with ErrClosed after a closing handshake and with the reason otherwise.
func TestReceiveEnds(t *testing.T) {
	cases := []struct {
		name string
		end  func(m *memTransport, ws conn.WebSocket)
		want func(err error) bool
	}{
		{"abort", func(m *memTransport, ws conn.WebSocket) { ws.Abort() },
			func(err error) bool { return errors.Is(err, conn.ErrAborted) }},
		{"connection lost", func(m *memTransport, ws conn.WebSocket) { m.lost() },
			func(err error) bool { return conn.CloseStatus(err) == conn.StatusAbnormalClosure }},
		{"failure", func(m *memTransport, ws conn.WebSocket) {
			m.fail(&conn.CloseError{Code: conn.StatusMessageTooBig, Reason: "too big"})
		}, func(err error) bool { return conn.CloseStatus(err) == conn.StatusMessageTooBig }},
	}
	for _, tc := range cases {
		for _, rc := range receiveCalls {
			t.Run(tc.name+"/"+rc.name, func(t *testing.T) {
				m, ws := newSession(t)
				got := async(func() ctxResult {
					d, err := rc.call(context.Background(), ws, make([]byte, 8))
					return ctxResult{d, err}
				})
				waitParked(t, "session.(*Session).takeBatch")
				tc.end(m, ws)
				if r := await(t, got, rc.name); !tc.want(r.err) {
					t.Fatalf("%s = %q, %v", rc.name, r.data, r.err)
				}
			})
		}
	}
}

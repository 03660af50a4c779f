package engine_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/volley-ws/volley/conn"
	"github.com/volley-ws/volley/engine"
	"github.com/volley-ws/volley/internal/wsclient"
	"github.com/volley-ws/volley/upgrade"
)

// ---------------------------------------------------------------------------
// Helpers for the blocking-API contract tests.

const apiPath = "/ws"

// apiServe starts a server whose apiPath route upgrades and runs fn with
// the WebSocket on the handler goroutine. The returned channel is closed
// when fn first returns.
func apiServe(t *testing.T, cfg engine.Config, fn func(ctx *upgrade.Context, ws conn.WebSocket)) (*icServer, <-chan struct{}) {
	t.Helper()
	done := make(chan struct{})
	var once sync.Once
	s := icStart(t, cfg, func(srv *engine.Server) {
		srv.HandleFunc(apiPath, func(ctx *upgrade.Context) {
			defer once.Do(func() { close(done) })
			ws, err := ctx.Upgrader().Upgrade()
			if err != nil {
				t.Errorf("Upgrade: %v", err)
				return
			}
			if st := ws.State(); st != conn.StateOpen {
				t.Errorf("state after Upgrade: %v, want Open", st)
			}
			fn(ctx, ws)
		})
	})
	return s, done
}

// apiRaw is a hand-driven client: a TCP connection after a WebSocket
// handshake, sending masked frames and reading the server's frames.
type apiRaw struct {
	c  net.Conn
	br *bufio.Reader
}

// apiDialTCP connects to addr; rcvbuf > 0 sets SO_RCVBUF before connecting.
func apiDialTCP(t *testing.T, addr string, rcvbuf int) net.Conn {
	t.Helper()
	d := net.Dialer{Timeout: icTimeout}
	if rcvbuf > 0 {
		d.Control = func(_, _ string, rc syscall.RawConn) error {
			var serr error
			err := rc.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, rcvbuf)
			})
			if err != nil {
				return err
			}
			return serr
		}
	}
	c, err := d.DialContext(t.Context(), "tcp", addr)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(3 * icTimeout))
	return c
}

// apiHandshake is a valid opening handshake for path.
func apiHandshake(addr, path string) string {
	return "GET " + path + " HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
}

// apiDialRaw connects and completes a handshake for path.
func apiDialRaw(t *testing.T, addr, path string, rcvbuf int) *apiRaw {
	t.Helper()
	c := apiDialTCP(t, addr, rcvbuf)
	if _, err := io.WriteString(c, apiHandshake(addr, path)); err != nil {
		t.Fatalf("write handshake: %v", err)
	}
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("read handshake response: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake answered %s", resp.Status)
	}
	if got := resp.Header.Get("Sec-WebSocket-Accept"); got != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Fatalf("Sec-WebSocket-Accept %q", got)
	}
	return &apiRaw{c: c, br: br}
}

func (r *apiRaw) write(t *testing.T, op ws.OpCode, fin bool, p []byte) {
	t.Helper()
	if err := ws.WriteFrame(r.c, ws.MaskFrame(ws.NewFrame(op, fin, p))); err != nil {
		t.Fatalf("write frame: %v", err)
	}
}

func (r *apiRaw) writeClose(t *testing.T, code conn.StatusCode, reason string) {
	t.Helper()
	r.write(t, ws.OpClose, true, ws.NewCloseFrameBody(ws.StatusCode(code), reason))
}

func (r *apiRaw) read(t *testing.T) ws.Frame {
	t.Helper()
	//lint:ignore SA1019 the test reads frames of its own server, bounded by the test's deadline
	f, err := ws.ReadFrame(r.br)
	if err != nil {
		t.Fatalf("read frame: %v", err)
	}
	if f.Header.Masked {
		t.Fatal("server frame is masked")
	}
	return f
}

// readClose reads the next frame, which must be a close, and returns its
// code and reason.
func (r *apiRaw) readClose(t *testing.T) icCloseInfo {
	t.Helper()
	f := r.read(t)
	if f.Header.OpCode != ws.OpClose {
		t.Fatalf("got %v frame (%q), want close", f.Header.OpCode, f.Payload)
	}
	code, reason := ws.ParseCloseFrameData(f.Payload)
	return icCloseInfo{conn.StatusCode(code), reason}
}

// apiDone waits for ch to be closed.
func apiDone(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(icTimeout):
		t.Fatalf("timed out waiting for %s", what)
	}
}

func apiIsDone(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// ---------------------------------------------------------------------------
// States and closing handshakes.

// TestAPIPeerCloseThenSendClose: the peer's close arrives through Receive
// (CloseReceived, with its code and reason), SendClose answers it (Closed),
// and the server ends the TCP connection.
func TestAPIPeerCloseThenSendClose(t *testing.T) {
	s, done := apiServe(t, engine.Config{}, func(_ *upgrade.Context, w conn.WebSocket) {
		msg, err := w.Receive()
		if err != nil || msg.Type != conn.Close {
			t.Errorf("Receive: %v %v, want the close", msg.Type, err)
			return
		}
		if msg.CloseStatus != 4001 || msg.CloseReason != "see you" {
			t.Errorf("close message %d %q, want 4001 \"see you\"", msg.CloseStatus, msg.CloseReason)
		}
		if st := w.State(); st != conn.StateCloseReceived {
			t.Errorf("state after receiving the close: %v, want CloseReceived", st)
		}
		if w.CloseStatus() != 4001 || w.CloseStatusDescription() != "see you" {
			t.Errorf("CloseStatus %d %q", w.CloseStatus(), w.CloseStatusDescription())
		}
		if _, err := w.Receive(); !errors.Is(err, conn.ErrClosed) {
			t.Errorf("Receive after the close: %v, want ErrClosed", err)
		}
		if apiIsDone(w.Done()) {
			t.Error("Done closed in CloseReceived")
		}
		if err := w.SendClose(4001, "bye too"); err != nil {
			t.Errorf("SendClose: %v", err)
		}
		if st := w.State(); st != conn.StateClosed {
			t.Errorf("state after SendClose: %v, want Closed", st)
		}
		if !apiIsDone(w.Done()) {
			t.Error("Done not closed in Closed")
		}
		if err := w.SendClose(1000, ""); !errors.Is(err, conn.ErrClosed) {
			t.Errorf("second SendClose: %v, want ErrClosed", err)
		}
	})
	r := apiDialRaw(t, s.addr, apiPath, 0)
	r.writeClose(t, 4001, "see you")
	got := r.readClose(t)
	if got.code != 4001 || got.reason != "bye too" {
		t.Errorf("server's answer %d %q, want 4001 \"bye too\"", got.code, got.reason)
	}
	icExpectEOF(t, r.c, r.br)
	apiDone(t, done, "the handler")
}

// TestAPICloseWaitsForPeer: Close from Open sends the close (CloseSent) and
// returns nil once the peer answered (Closed); the server then ends the TCP
// connection.
func TestAPICloseWaitsForPeer(t *testing.T) {
	wsc := make(chan conn.WebSocket, 1)
	closeErr := make(chan error, 1)
	s, done := apiServe(t, engine.Config{}, func(_ *upgrade.Context, w conn.WebSocket) {
		wsc <- w
		closeErr <- w.Close(conn.StatusNormalClosure, "server done")
	})
	r := apiDialRaw(t, s.addr, apiPath, 0)
	w := icRecv(t, wsc, icTimeout, "the WebSocket")
	got := r.readClose(t)
	if got.code != conn.StatusNormalClosure || got.reason != "server done" {
		t.Fatalf("server's close %d %q", got.code, got.reason)
	}
	if st := w.State(); st != conn.StateCloseSent {
		t.Fatalf("state while waiting for the peer: %v, want CloseSent", st)
	}
	if apiIsDone(w.Done()) {
		t.Fatal("Done closed before the peer answered")
	}
	select {
	case err := <-closeErr:
		t.Fatalf("Close returned %v before the peer answered", err)
	default:
	}
	// A message the peer sends before answering stays readable.
	r.write(t, ws.OpText, true, []byte("late"))
	r.writeClose(t, 4002, "ok")
	apiDone(t, w.Done(), "Done after the peer's answer")
	if err := icRecv(t, closeErr, icTimeout, "Close"); err != nil {
		t.Fatalf("Close: %v, want nil", err)
	}
	if st := w.State(); st != conn.StateClosed {
		t.Fatalf("state after the handshake: %v, want Closed", st)
	}
	if w.CloseStatus() != 4002 || w.CloseStatusDescription() != "ok" {
		t.Fatalf("CloseStatus %d %q, want 4002 \"ok\"", w.CloseStatus(), w.CloseStatusDescription())
	}
	for name, err := range map[string]error{
		"Send":       w.Send(conn.Text, []byte("x")),
		"SendText":   w.SendText("x"),
		"SendBinary": w.SendBinary([]byte("x")),
		"SendFrame":  w.SendFrame([]byte("x"), conn.Binary, false),
		"Close":      w.Close(conn.StatusNormalClosure, ""),
	} {
		if !errors.Is(err, conn.ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", name, err)
		}
	}
	if msg, err := w.Receive(); err != nil || msg.Text() != "late" {
		t.Errorf("Receive after the closing handshake: %q %v, want the queued message", msg.Data, err)
	}
	// Then the peer's close, in the order it came, though this side closed
	// first.
	if msg, err := w.Receive(); err != nil || msg.Type != conn.Close || msg.CloseStatus != 4002 || msg.CloseReason != "ok" {
		t.Errorf("Receive after the queued message: %+v %v, want the peer's close 4002 \"ok\"", msg, err)
	}
	if _, err := w.Receive(); !errors.Is(err, conn.ErrClosed) {
		t.Errorf("Receive after the peer's close: %v, want ErrClosed", err)
	}
	icExpectEOF(t, r.c, r.br)
	apiDone(t, done, "the handler")
}

// TestAPICloseTimeout: a peer that reads the close but never answers makes
// Close return ErrCloseTimeout after CloseTimeout, with the connection
// aborted.
func TestAPICloseTimeout(t *testing.T) {
	const closeTimeout = 300 * time.Millisecond
	type result struct {
		err     error
		elapsed time.Duration
		state   conn.State
	}
	res := make(chan result, 1)
	s, done := apiServe(t, engine.Config{CloseTimeout: closeTimeout}, func(_ *upgrade.Context, w conn.WebSocket) {
		start := time.Now()
		err := w.Close(conn.StatusNormalClosure, "")
		res <- result{err, time.Since(start), w.State()}
	})
	r := apiDialRaw(t, s.addr, apiPath, 0)
	if got := r.readClose(t); got.code != conn.StatusNormalClosure {
		t.Fatalf("server's close %d", got.code)
	}
	got := icRecv(t, res, icTimeout, "Close")
	if !errors.Is(got.err, conn.ErrCloseTimeout) {
		t.Errorf("Close: %v, want ErrCloseTimeout", got.err)
	}
	if got.elapsed < closeTimeout-50*time.Millisecond || got.elapsed > closeTimeout+time.Second {
		t.Errorf("Close returned after %v, want about %v", got.elapsed, closeTimeout)
	}
	if got.state != conn.StateAborted {
		t.Errorf("state: %v, want Aborted", got.state)
	}
	icExpectEnd(t, r.c, r.br) // aborted: an EOF or a reset
	apiDone(t, done, "the handler")
}

// TestAPIAbort: Abort ends the TCP connection at once, without a close
// frame; the state is Aborted and later calls fail.
func TestAPIAbort(t *testing.T) {
	s, done := apiServe(t, engine.Config{}, func(_ *upgrade.Context, w conn.WebSocket) {
		// Abort drops unsent bytes, the 101 included: wait for the client.
		if _, err := w.Receive(); err != nil {
			t.Errorf("Receive: %v", err)
		}
		w.Abort()
		if st := w.State(); st != conn.StateAborted {
			t.Errorf("state after Abort: %v, want Aborted", st)
		}
		if !apiIsDone(w.Done()) {
			t.Error("Done not closed after Abort")
		}
		if _, err := w.Receive(); !errors.Is(err, conn.ErrAborted) {
			t.Errorf("Receive after Abort: %v, want ErrAborted", err)
		}
		if err := w.SendText("x"); !errors.Is(err, conn.ErrClosed) {
			t.Errorf("SendText after Abort: %v, want ErrClosed", err)
		}
		if err := w.Close(conn.StatusNormalClosure, ""); !errors.Is(err, conn.ErrClosed) {
			t.Errorf("Close after Abort: %v, want ErrClosed", err)
		}
	})
	r := apiDialRaw(t, s.addr, apiPath, 0)
	r.write(t, ws.OpText, true, []byte("abort now"))
	icExpectEnd(t, r.c, r.br) // aborted, no close frame: nothing at all, then an EOF or a reset
	apiDone(t, done, "the handler")
}

// TestAPIClientDrop: a client that closes TCP without a close frame: the
// messages it sent first are still received, then Receive returns a
// *conn.CloseError with StatusAbnormalClosure, and the state is Aborted.
func TestAPIClientDrop(t *testing.T) {
	s, done := apiServe(t, engine.Config{}, func(_ *upgrade.Context, w conn.WebSocket) {
		// apiServe has checked the state is Open: only now may the client
		// drop the connection.
		if err := w.SendText("ready"); err != nil {
			t.Errorf("SendText: %v", err)
		}
		msg, err := w.Receive()
		if err != nil || msg.Type != conn.Text || string(msg.Data) != "last words" {
			t.Errorf("Receive: %v %q %v, want the last message", msg.Type, msg.Data, err)
		}
		// The end comes in order, after the messages: until the receiver
		// gets there, the WebSocket is open (and a reply would still go
		// out).
		_, err = w.Receive()
		var ce *conn.CloseError
		if !errors.As(err, &ce) || ce.Code != conn.StatusAbnormalClosure {
			t.Errorf("Receive after the drop: %v, want *CloseError 1006", err)
		}
		apiDone(t, w.Done(), "Done after the drop")
		if st := w.State(); st != conn.StateAborted {
			t.Errorf("state: %v, want Aborted", st)
		}
	})
	r := apiDialRaw(t, s.addr, apiPath, 0)
	if f := r.read(t); string(f.Payload) != "ready" {
		t.Fatalf("first message %q, want ready", f.Payload)
	}
	r.write(t, ws.OpText, true, []byte("last words"))
	r.c.Close()
	apiDone(t, done, "the handler")
}

// ---------------------------------------------------------------------------
// Misuse errors.

// TestAPIMisuse checks the errors of wrong calls, none of which may send
// anything or change the state; the client sees only the valid messages.
func TestAPIMisuse(t *testing.T) {
	s, done := apiServe(t, engine.Config{}, func(ctx *upgrade.Context, w conn.WebSocket) {
		expect := func(what string, err, want error) {
			t.Helper()
			if !errors.Is(err, want) {
				t.Errorf("%s: %v, want %v", what, err, want)
			}
		}
		if _, err := ctx.Upgrader().Upgrade(); !errors.Is(err, upgrade.ErrResponded) {
			t.Errorf("second Upgrade: %v, want ErrResponded", err)
		}

		// A SendFrame message in progress blocks whole-message sends.
		expect("SendFrame first", w.SendFrame([]byte("part1 "), conn.Text, false), nil)
		expect("Send during SendFrame", w.Send(conn.Text, []byte("x")), conn.ErrMessageInProgress)
		expect("SendText during SendFrame", w.SendText("x"), conn.ErrMessageInProgress)
		expect("SendBinary during SendFrame", w.SendBinary([]byte("x")), conn.ErrMessageInProgress)
		expect("SendFrame with another type", w.SendFrame([]byte("x"), conn.Binary, true), conn.ErrInvalidMessageType)
		expect("SendFrame last", w.SendFrame([]byte("part2"), conn.Text, true), nil)

		// Invalid payloads and types.
		expect("Send invalid UTF-8", w.Send(conn.Text, []byte("ok\xff")), conn.ErrInvalidUTF8)
		expect("SendText invalid UTF-8", w.SendText("\xc3"), conn.ErrInvalidUTF8)
		expect("SendFrame truncated rune at the end", w.SendFrame([]byte("\xe2\x82"), conn.Text, true), conn.ErrInvalidUTF8)
		expect("Send Close type", w.Send(conn.Close, nil), conn.ErrInvalidMessageType)
		expect("Send unknown type", w.Send(conn.MessageType(9), nil), conn.ErrInvalidMessageType)
		expect("SendFrame Close type", w.SendFrame(nil, conn.Close, true), conn.ErrInvalidMessageType)

		// Close codes that may not be sent.
		for _, c := range []struct {
			code   conn.StatusCode
			reason string
		}{{1005, "reason"}, {1006, ""}, {999, ""}, {1004, ""}, {1015, ""}, {2999, ""}, {5000, ""}} {
			if err := w.Close(c.code, c.reason); err == nil {
				t.Errorf("Close(%d, %q) succeeded", c.code, c.reason)
			}
			if err := w.SendClose(c.code, c.reason); err == nil {
				t.Errorf("SendClose(%d, %q) succeeded", c.code, c.reason)
			}
		}
		expect("Close with a 124-byte reason", w.Close(1000, string(bytes.Repeat([]byte("r"), 124))), conn.ErrInvalidCloseReason)
		expect("Close with a non-UTF-8 reason", w.Close(1000, "\xff"), conn.ErrInvalidCloseReason)
		if st := w.State(); st != conn.StateOpen {
			t.Errorf("state after the rejected calls: %v, want Open", st)
		}

		// ReceiveFrame half-way blocks Receive.
		buf := make([]byte, 10)
		res, err := w.ReceiveFrame(buf)
		if err != nil || res.Count != 10 || res.EndOfMessage || res.Type != conn.Binary {
			t.Errorf("ReceiveFrame: %+v %v, want 10 bytes of binary, not the end", res, err)
		}
		_, rerr := w.Receive()
		expect("Receive during ReceiveFrame", rerr, conn.ErrMessageInProgress)
		total := res.Count
		for !res.EndOfMessage && err == nil {
			res, err = w.ReceiveFrame(buf)
			total += res.Count
		}
		if err != nil || total != 100 {
			t.Errorf("rest of the message: %d bytes in all, %v", total, err)
		}
		// A whole message is received normally again.
		if msg, err := w.Receive(); err != nil || msg.Text() != "next" {
			t.Errorf("Receive after the frames: %q %v", msg.Data, err)
		}
		expect("SendText done", w.SendText("done"), nil)

		msg, err := w.Receive()
		if err != nil || msg.Type != conn.Close {
			t.Errorf("Receive: %v %v, want the close", msg.Type, err)
		}
		_, err = w.Receive()
		expect("Receive after the close was received", err, conn.ErrClosed)
		_, err = w.ReceiveFrame(buf)
		expect("ReceiveFrame after the close was received", err, conn.ErrClosed)
		expect("SendClose", w.SendClose(msg.CloseStatus, ""), nil)
		expect("Send after SendClose", w.SendText("x"), conn.ErrClosed)
		expect("SendFrame after SendClose", w.SendFrame([]byte("x"), conn.Text, true), conn.ErrClosed)
	})
	c := icDial(t, s.url(apiPath))
	if err := c.Send(wsclient.Binary, make([]byte, 100)); err != nil {
		t.Fatal(err)
	}
	if err := c.Send(wsclient.Text, []byte("next")); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"part1 part2", "done"} {
		typ, p, err := icReceive(t, c)
		if err != nil || typ != wsclient.Text || string(p) != want {
			t.Fatalf("client got %v %q %v, want text %q", typ, p, err, want)
		}
	}
	c.SendClose(1000, "")
	if _, _, err := icReceive(t, c); !icIsClose(err, 1000) {
		t.Fatalf("after the close: %v, want the server's close 1000", err)
	}
	apiDone(t, done, "the handler")
}

// ---------------------------------------------------------------------------
// Fragments.

// TestAPIReceiveFrame: a 100-byte message read with a 30-byte buffer comes
// in four parts with EndOfMessage on the last only; a message the client
// fragmented comes joined, in pieces of the buffer's size (the engine joins
// fragments: frame boundaries are not kept); the peer's close comes as
// Close.
func TestAPIReceiveFrame(t *testing.T) {
	s, done := apiServe(t, engine.Config{}, func(_ *upgrade.Context, w conn.WebSocket) {
		type part struct {
			data string
			eom  bool
		}
		read := func(size int) (parts []part, typ conn.MessageType) {
			buf := make([]byte, size)
			for {
				res, err := w.ReceiveFrame(buf)
				if err != nil {
					t.Errorf("ReceiveFrame: %v", err)
					return
				}
				if typ != 0 && res.Type != typ {
					t.Errorf("type changed within a message: %v then %v", typ, res.Type)
				}
				typ = res.Type
				parts = append(parts, part{string(buf[:res.Count]), res.EndOfMessage})
				if res.EndOfMessage {
					return parts, typ
				}
			}
		}
		msg := string(icPayload(conn.Text, 100, 5))
		parts, typ := read(30)
		want := []part{{msg[:30], false}, {msg[30:60], false}, {msg[60:90], false}, {msg[90:], true}}
		if typ != conn.Text || fmt.Sprint(parts) != fmt.Sprint(want) {
			t.Errorf("100 bytes with a 30-byte buffer: %v %+v, want text %+v", typ, parts, want)
		}
		parts, typ = read(64)
		want = []part{{"abcdefgh", true}}
		if typ != conn.Binary || fmt.Sprint(parts) != fmt.Sprint(want) {
			t.Errorf("fragmented message: %v %+v, want binary %+v", typ, parts, want)
		}
		parts, typ = read(3)
		want = []part{{"abc", false}, {"def", false}, {"gh", true}}
		if typ != conn.Binary || fmt.Sprint(parts) != fmt.Sprint(want) {
			t.Errorf("second fragmented message with a 3-byte buffer: %v %+v, want binary %+v", typ, parts, want)
		}
		res, err := w.ReceiveFrame(make([]byte, 8))
		if err != nil || res.Type != conn.Close || res.Count != 0 || res.CloseStatus != 4003 || res.CloseStatusDescription != "fin" {
			t.Errorf("close through ReceiveFrame: %+v %v", res, err)
		}
		if st := w.State(); st != conn.StateCloseReceived {
			t.Errorf("state: %v, want CloseReceived", st)
		}
		w.SendClose(4003, "")
	})
	r := apiDialRaw(t, s.addr, apiPath, 0)
	r.write(t, ws.OpText, true, icPayload(conn.Text, 100, 5))
	r.write(t, ws.OpBinary, false, []byte("abc"))
	r.write(t, ws.OpPing, true, []byte("between fragments"))
	r.write(t, ws.OpContinuation, false, []byte("def"))
	r.write(t, ws.OpContinuation, true, []byte("gh"))
	r.write(t, ws.OpBinary, false, []byte("abcd"))
	r.write(t, ws.OpContinuation, true, []byte("efgh"))
	if f := r.read(t); f.Header.OpCode != ws.OpPong || string(f.Payload) != "between fragments" {
		t.Fatalf("got %v %q, want the pong", f.Header.OpCode, f.Payload)
	}
	r.writeClose(t, 4003, "fin")
	if got := r.readClose(t); got.code != 4003 {
		t.Fatalf("server's close %d, want 4003", got.code)
	}
	apiDone(t, done, "the handler")
}

// TestAPISendFrameText: a text message sent in three fragments that split
// multi-byte characters arrives as three frames (text, continuation,
// continuation+FIN) and, at a message-level client (internal/wsclient), as
// one message.
func TestAPISendFrameText(t *testing.T) {
	text := []byte("héllo €uro 😀!")
	i := bytes.Index(text, []byte("€")) + 1 // inside €
	j := bytes.Index(text, []byte("😀")) + 2 // inside 😀
	parts := [][]byte{text[:i], text[i:j], text[j:]}
	s := icStart(t, engine.Config{}, func(srv *engine.Server) {
		srv.HandleFunc(apiPath, func(ctx *upgrade.Context) {
			w, err := ctx.Upgrader().Upgrade()
			if err != nil {
				return
			}
			for k, p := range parts {
				if err := w.SendFrame(p, conn.Text, k == len(parts)-1); err != nil {
					t.Errorf("SendFrame %d: %v", k, err)
				}
			}
			w.Close(conn.StatusNormalClosure, "")
		})
	})

	r := apiDialRaw(t, s.addr, apiPath, 0)
	wantOps := []ws.OpCode{ws.OpText, ws.OpContinuation, ws.OpContinuation}
	for k, p := range parts {
		f := r.read(t)
		if f.Header.OpCode != wantOps[k] || f.Header.Fin != (k == 2) || !bytes.Equal(f.Payload, p) {
			t.Fatalf("frame %d: %v fin=%v %q, want %v fin=%v %q", k, f.Header.OpCode, f.Header.Fin, f.Payload, wantOps[k], k == 2, p)
		}
	}
	r.readClose(t)
	r.writeClose(t, conn.StatusNormalClosure, "")

	c := icDial(t, s.url(apiPath))
	typ, got, err := icReceive(t, c)
	if err != nil || typ != wsclient.Text || !bytes.Equal(got, text) {
		t.Fatalf("the client got %v %q %v, want text %q", typ, got, err, text)
	}
	if _, _, err := icReceive(t, c); !icIsClose(err, 1000) {
		t.Fatalf("after the message: %v, want close 1000", err)
	}
}

// ---------------------------------------------------------------------------
// Concurrency and flow control.

// TestAPIConcurrentSend: 8 goroutines send 200 messages each on one
// WebSocket; every message arrives intact, and each goroutine's arrive in
// order.
func TestAPIConcurrentSend(t *testing.T) {
	const senders, perSender = 8, 200
	payload := func(g, seq int) []byte {
		head := fmt.Sprintf("%d:%d:", g, seq)
		n := (g*perSender + seq) % 700
		return append([]byte(head), bytes.Repeat([]byte{byte('a' + g)}, n)...)
	}
	s, done := apiServe(t, engine.Config{}, func(_ *upgrade.Context, w conn.WebSocket) {
		var wg sync.WaitGroup
		for g := range senders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for seq := range perSender {
					if err := w.Send(conn.Binary, payload(g, seq)); err != nil {
						t.Errorf("sender %d message %d: %v", g, seq, err)
						return
					}
				}
			}()
		}
		wg.Wait()
		w.Close(conn.StatusNormalClosure, "")
	})
	c := icDial(t, s.url(apiPath))
	next := make([]int, senders)
	for range senders * perSender {
		_, p, err := icReceive(t, c)
		if err != nil {
			t.Fatalf("read: %v (received so far per sender: %v)", err, next)
		}
		var g, seq int
		if _, err := fmt.Sscanf(string(p), "%d:%d:", &g, &seq); err != nil || g < 0 || g >= senders {
			t.Fatalf("garbled message %.40q", p)
		}
		if seq != next[g] {
			t.Fatalf("sender %d: message %d arrived when %d was expected", g, seq, next[g])
		}
		if !bytes.Equal(p, payload(g, seq)) {
			t.Fatalf("sender %d message %d corrupted: %.60q", g, seq, p)
		}
		next[g]++
	}
	if _, _, err := icReceive(t, c); !icIsClose(err, 1000) {
		t.Fatalf("after all messages: %v, want close 1000", err)
	}
	apiDone(t, done, "the handler")
}

// TestAPIWriteTimeout: a client that never reads. With MaxUnsentBytes 64 KiB
// and WriteTimeout 500ms, a handler sending 16 KiB messages (trying up to
// 256 MiB) gets ErrWriteTimeout within a few seconds, the connection is
// aborted, and neither the bytes accepted nor the server's heap grow past
// the limit plus the kernel's socket buffers.
func TestAPIWriteTimeout(t *testing.T) {
	const (
		unsentLimit = 64 << 10
		msgSize     = 16 << 10
		tryTotal    = 256 << 20
	)
	type result struct {
		err      error
		sent     int
		elapsed  time.Duration
		heapGrow uint64
		state    conn.State
	}
	res := make(chan result, 1)
	s, done := apiServe(t, engine.Config{MaxUnsentBytes: unsentLimit, WriteTimeout: 500 * time.Millisecond},
		func(_ *upgrade.Context, w conn.WebSocket) {
			var ms runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&ms)
			base, peak := ms.HeapInuse, ms.HeapInuse
			msg := make([]byte, msgSize)
			start := time.Now()
			var r result
			for r.sent < tryTotal {
				if r.err = w.SendBinary(msg); r.err != nil {
					break
				}
				r.sent += msgSize
				if r.sent%(1<<20) == 0 {
					runtime.ReadMemStats(&ms)
					peak = max(peak, ms.HeapInuse)
				}
			}
			r.elapsed = time.Since(start)
			runtime.ReadMemStats(&ms)
			r.heapGrow = max(peak, ms.HeapInuse) - base
			r.state = w.State()
			res <- r
		})
	c := apiDialTCP(t, s.addr, 4096)
	if _, err := io.WriteString(c, apiHandshake(s.addr, apiPath)); err != nil {
		t.Fatal(err)
	}
	// Never read, not even the 101: the handler starts sending at once.
	r := icRecv(t, res, 10*time.Second, "the handler's Send to fail")
	if !errors.Is(r.err, conn.ErrWriteTimeout) {
		t.Errorf("Send failed with %v, want ErrWriteTimeout", r.err)
	}
	if r.elapsed > 5*time.Second {
		t.Errorf("Send failed after %v, want within a few seconds", r.elapsed)
	}
	if r.state != conn.StateAborted {
		t.Errorf("state: %v, want Aborted", r.state)
	}
	if r.sent > unsentLimit+16<<20 {
		t.Errorf("%d bytes accepted by Send for a client that reads nothing", r.sent)
	}
	if r.heapGrow > 32<<20 {
		t.Errorf("heap grew by %d MiB while sending to a client that reads nothing", r.heapGrow>>20)
	}
	t.Logf("accepted %d KiB before ErrWriteTimeout after %v; heap growth %d KiB", r.sent>>10, r.elapsed, r.heapGrow>>10)
	apiDone(t, done, "the handler")
}

// TestAPISendWaitsForRoom: a handler sending to a client that reads late
// waits at MaxUnsentBytes, and is woken when the client reads, not by its
// WriteTimeout: every message arrives, in order, and no Send fails.
func TestAPISendWaitsForRoom(t *testing.T) {
	const (
		unsentLimit = 64 << 10
		msgSize     = 16 << 10
		count       = 256 // 4 MiB: far more than the limit and a 4 KiB receive buffer hold
	)
	type result struct {
		err     error
		waited  bool
		elapsed time.Duration
	}
	res := make(chan result, 1)
	s, done := apiServe(t, engine.Config{MaxUnsentBytes: unsentLimit, WriteTimeout: 10 * time.Second},
		func(_ *upgrade.Context, w conn.WebSocket) {
			start := time.Now()
			var r result
			for i := range count {
				msg := bytes.Repeat([]byte{byte(i)}, msgSize)
				before := time.Now()
				if r.err = w.SendBinary(msg); r.err != nil {
					break
				}
				r.waited = r.waited || time.Since(before) > 100*time.Millisecond
			}
			r.elapsed = time.Since(start)
			res <- r
			w.Close(conn.StatusNormalClosure, "")
		})
	r := apiDialRaw(t, s.addr, apiPath, 4096)
	time.Sleep(300 * time.Millisecond) // read nothing: the handler fills the queue and waits
	for i := range count {
		f := r.read(t)
		if f.Header.OpCode != ws.OpBinary || !bytes.Equal(f.Payload, bytes.Repeat([]byte{byte(i)}, msgSize)) {
			t.Fatalf("message %d: op %v, %d bytes, want %d bytes of %d", i, f.Header.OpCode, len(f.Payload), msgSize, i)
		}
	}
	got := icRecv(t, res, icTimeout, "the handler's sends")
	if got.err != nil {
		t.Fatalf("Send: %v", got.err)
	}
	if !got.waited {
		t.Error("no Send waited for room: the test did not fill the queue")
	}
	if code := r.readClose(t).code; code != conn.StatusNormalClosure {
		t.Errorf("close %d, want 1000", code)
	}
	r.writeClose(t, conn.StatusNormalClosure, "")
	apiDone(t, done, "the handler")
	t.Logf("%d MiB sent in %v through a %d KiB queue", count*msgSize>>20, got.elapsed, unsentLimit>>10)
}

// TestAPIUnreadLimit: a handler that never calls Receive while the client
// floods: past MaxUnreadBytes the server fails the connection with 1008,
// and the handler then gets the queued messages and a *CloseError 1008.
func TestAPIUnreadLimit(t *testing.T) {
	release := make(chan struct{})
	s, done := apiServe(t, engine.Config{MaxMessageSize: 1024, MaxUnreadBytes: 1},
		func(_ *upgrade.Context, w conn.WebSocket) {
			select {
			case <-w.Done():
			case <-release:
				t.Error("the connection did not end while the handler did not read")
				return
			}
			if st := w.State(); st != conn.StateAborted {
				t.Errorf("state: %v, want Aborted", st)
			}
			n := 0
			for {
				msg, err := w.Receive()
				if err != nil {
					if conn.CloseStatus(err) != conn.StatusPolicyViolation {
						t.Errorf("Receive after %d queued messages: %v, want *CloseError 1008", n, err)
					}
					break
				}
				if len(msg.Data) != 1000 {
					t.Errorf("queued message %d has %d bytes", n, len(msg.Data))
				}
				n++
			}
			// The limit is MaxMessageSize+64 KiB: about 66 messages of 1000 bytes.
			if n < 60 || n > 70 {
				t.Errorf("%d messages were queued, want about 66", n)
			}
		})
	defer close(release)
	c := icDial(t, s.url(apiPath))
	msg := make([]byte, 1000)
	for range 200 {
		if err := c.Send(wsclient.Binary, msg); err != nil {
			break // the server may be gone already
		}
	}
	if _, _, err := icReceive(t, c); !icIsClose(err, int(conn.StatusPolicyViolation)) {
		t.Fatalf("client got %v, want close 1008", err)
	}
	c.CloseNow()
	apiDone(t, done, "the handler")
}

// ---------------------------------------------------------------------------
// Timeouts.

// TestAPIHandshakeTimeout: a client that never finishes its request is
// dropped after HandshakeTimeout, with at most a 408.
func TestAPIHandshakeTimeout(t *testing.T) {
	s := icStart(t, engine.Config{HandshakeTimeout: 300 * time.Millisecond}, func(srv *engine.Server) {
		srv.HandleFunc("/echo", func(*upgrade.Context) { t.Error("handler called for an unfinished request") })
	})
	for _, req := range []string{"GET /echo HTTP/1.1\r\nHost: x\r\n", ""} {
		apiRetryTiming(t, func() error {
			c := apiDialTCP(t, s.addr, 0)
			defer c.Close()
			io.WriteString(c, req)
			start := time.Now()
			c.SetReadDeadline(time.Now().Add(3 * time.Second))
			got, err := io.ReadAll(c)
			elapsed := time.Since(start)
			if err != nil {
				t.Fatalf("request %q: connection not closed: %v after %v", req, err, elapsed)
			}
			if len(got) > 0 && !bytes.HasPrefix(got, []byte("HTTP/1.1 408 ")) {
				t.Fatalf("request %q: answered %q, want nothing or a 408", req, got)
			}
			if elapsed > 1200*time.Millisecond || elapsed < 250*time.Millisecond {
				return fmt.Errorf("request %q: closed after %v, want about 300ms", req, elapsed)
			}
			return nil
		})
	}
}

// TestAPIIdleTimeout: with IdleTimeout 600ms, a client that answers
// nothing gets a ping after about 300ms and close 1001 after about 600ms;
// a client that answers pings stays open.
//
// The engine's timers run on a coarse clock checked every 100ms; on a
// machine overloaded by other processes a check can come hundreds of
// milliseconds late, so a scenario whose timing is off is tried again (at
// most apiTimingAttempts times in all) before the test fails.
func TestAPIIdleTimeout(t *testing.T) {
	const idle = 600 * time.Millisecond
	s := icStart(t, engine.Config{IdleTimeout: idle}, func(srv *engine.Server) {
		srv.HandleFunc(apiPath, func(ctx *upgrade.Context) {
			w, err := ctx.Upgrader().Upgrade()
			if err != nil {
				return
			}
			for {
				msg, err := w.Receive()
				if err != nil || msg.Type == conn.Close {
					return
				}
				w.Send(msg.Type, msg.Data)
			}
		})
	})

	t.Run("silent", func(t *testing.T) {
		apiRetryTiming(t, func() error {
			start := time.Now()
			r := apiDialRaw(t, s.addr, apiPath, 0)
			defer r.c.Close()
			f := r.read(t)
			pingAt := time.Since(start)
			if f.Header.OpCode != ws.OpPing {
				return fmt.Errorf("got %v after %v, want a ping", f.Header.OpCode, pingAt)
			}
			if pingAt < idle/2-50*time.Millisecond || pingAt > idle/2+400*time.Millisecond {
				return fmt.Errorf("ping after %v, want about %v", pingAt, idle/2)
			}
			got := r.readClose(t)
			closeAt := time.Since(start)
			if got.code != conn.StatusGoingAway {
				t.Fatalf("close code %d, want 1001", got.code)
			}
			if closeAt < idle-50*time.Millisecond || closeAt > idle+500*time.Millisecond {
				return fmt.Errorf("close after %v, want about %v", closeAt, idle)
			}
			icExpectEOF(t, r.c, r.br)
			return nil
		})
	})

	t.Run("answering", func(t *testing.T) {
		apiRetryTiming(t, func() error {
			pings := make(chan struct{}, 16)
			// The client answers every ping with a pong (in Receive).
			c, _ := icDialWith(t, s.url(apiPath), &wsclient.Options{
				OnPing: func([]byte) { pings <- struct{}{} },
			})
			defer c.CloseNow()
			msgs := make(chan error, 1)
			go func() {
				_, _, err := icReceive(t, c)
				msgs <- err
			}()
			select {
			case err := <-msgs:
				return fmt.Errorf("connection ended while the client answered pings: %v", err)
			case <-time.After(1500 * time.Millisecond):
			}
			if len(pings) < 2 {
				return fmt.Errorf("%d pings in 1.5s, want at least 2", len(pings))
			}
			if err := c.Send(wsclient.Text, []byte("still here")); err != nil {
				t.Fatalf("write after 1.5s: %v", err)
			}
			if err := icRecv(t, msgs, icTimeout, "the echo"); err != nil {
				t.Fatalf("echo after 1.5s: %v", err)
			}
			return nil
		})
	})
}

// apiTimingAttempts is how often a timing-sensitive scenario is tried.
const apiTimingAttempts = 3

// apiRetryTiming runs try until it returns nil, at most apiTimingAttempts
// times; the test fails with the last error. try reports timing misses as
// errors and fails the test itself for anything else.
func apiRetryTiming(t *testing.T, try func() error) {
	t.Helper()
	var err error
	for attempt := 1; attempt <= apiTimingAttempts; attempt++ {
		if err = try(); err == nil {
			return
		}
		t.Logf("attempt %d: %v", attempt, err)
	}
	t.Errorf("timing missed in all %d attempts: %v", apiTimingAttempts, err)
}

// ---------------------------------------------------------------------------
// Panics and shutdown.

type apiPanicEvents struct{}

func (apiPanicEvents) OnOpen(*engine.Conn) {}
func (apiPanicEvents) OnMessage(*engine.Conn, conn.MessageType, []byte) {
	panic("OnMessage boom")
}
func (apiPanicEvents) OnClose(*engine.Conn, error) {}

// TestAPIHandlerPanic: a panic before the upgrade is answered 500, one
// after it closes the WebSocket with 1011, one in an event callback too;
// each is logged, and the server keeps serving.
func TestAPIHandlerPanic(t *testing.T) {
	s := icStart(t, engine.Config{}, func(srv *engine.Server) {
		srv.HandleFunc("/panic-before", func(*upgrade.Context) { panic("before boom") })
		srv.HandleFunc("/panic-after", func(ctx *upgrade.Context) {
			if _, err := ctx.Upgrader().Upgrade(); err == nil {
				panic("after boom")
			}
		})
		srv.HandleEvents("/panic-events", apiPanicEvents{})
		srv.HandleFunc("/ok", func(ctx *upgrade.Context) { ctx.WriteString("fine") })
	})
	serving := func(t *testing.T) {
		t.Helper()
		resp, err := http.Get("http://" + s.addr + "/ok")
		if err != nil {
			t.Fatalf("server not serving after the panic: %v", err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(body) != "fine" {
			t.Fatalf("after the panic: %s %q", resp.Status, body)
		}
	}

	t.Run("before upgrade", func(t *testing.T) {
		resp, err := http.Get("http://" + s.addr + "/panic-before")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusInternalServerError {
			t.Fatalf("status %s, want 500", resp.Status)
		}
		serving(t)
	})
	t.Run("after upgrade", func(t *testing.T) {
		c := icDial(t, s.url("/panic-after"))
		if _, _, err := icReceive(t, c); !icIsClose(err, int(conn.StatusInternalError)) {
			t.Fatalf("client got %v, want close 1011", err)
		}
		serving(t)
	})
	t.Run("event callback", func(t *testing.T) {
		c := icDial(t, s.url("/panic-events"))
		c.Send(wsclient.Text, []byte("boom please"))
		if _, _, err := icReceive(t, c); !icIsClose(err, int(conn.StatusInternalError)) {
			t.Fatalf("client got %v, want close 1011", err)
		}
		serving(t)
	})
	logged := s.log.String()
	for _, p := range []string{"before boom", "after boom", "OnMessage boom"} {
		if !bytes.Contains([]byte(logged), []byte(p)) {
			t.Errorf("panic %q not logged; log:\n%s", p, logged)
		}
	}
}

// TestAPIShutdown: Shutdown sends 1001 to every open WebSocket (blocking
// and event API), returns nil once the clients answered, within its
// context, and the server refuses connections afterwards.
func TestAPIShutdown(t *testing.T) {
	handlerEnd := make(chan error, 1)
	srv := engine.New(engine.Config{Addr: "127.0.0.1:0", EventLoops: 2})
	srv.HandleFunc(icEchoPath, func(ctx *upgrade.Context) {
		w, err := ctx.Upgrader().Upgrade()
		if err != nil {
			handlerEnd <- err
			return
		}
		for {
			if _, err := w.Receive(); err != nil {
				handlerEnd <- err
				return
			}
		}
	})
	closed := make(chan icCloseInfo, 1)
	srv.HandleEvents(icEventsPath, icEventEcho{closed: closed})
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	addr := srv.Addr().String()
	stopped := false
	defer func() {
		if !stopped {
			srv.Shutdown(context.Background())
		}
	}()

	ends := make(chan error, 2)
	for _, path := range []string{icEchoPath, icEventsPath} {
		c := icDial(t, "ws://"+addr+path)
		go func() {
			var err error
			for err == nil {
				_, _, err = icReceive(t, c) // answers the close
			}
			c.CloseNow()
			ends <- err
		}()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	start := time.Now()
	err := srv.Shutdown(ctx)
	stopped = true
	if err != nil {
		t.Fatalf("Shutdown: %v after %v", err, time.Since(start))
	}
	t.Logf("Shutdown took %v", time.Since(start))
	for range 2 {
		if err := icRecv(t, ends, icTimeout, "the clients"); !icIsClose(err, int(conn.StatusGoingAway)) {
			t.Errorf("client got %v, want close 1001", err)
		}
	}
	if err := icRecv(t, handlerEnd, time.Second, "the handler"); !errors.Is(err, conn.ErrClosed) {
		t.Errorf("handler's Receive ended with %v, want ErrClosed after the handshake", err)
	}
	if got := icRecv(t, closed, time.Second, "OnClose"); got.code != conn.StatusGoingAway {
		t.Errorf("OnClose: %d %q, want 1001", got.code, got.reason)
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Errorf("connection accepted after Shutdown")
	}
	if err := srv.Shutdown(context.Background()); err != nil {
		t.Errorf("second Shutdown: %v", err)
	}
}

// TestAPIShutdownContext: Shutdown gives up when its context ends before a
// client answers the close, returns the context's error and still stops.
func TestAPIShutdownContext(t *testing.T) {
	srv := engine.New(engine.Config{Addr: "127.0.0.1:0", EventLoops: 1, CloseTimeout: 10 * time.Second})
	srv.HandleEvents(icEventsPath, icEventEcho{closed: make(chan icCloseInfo, 1)})
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	addr := srv.Addr().String()
	r := apiDialRaw(t, addr, icEventsPath, 0) // never answers the close
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := srv.Shutdown(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown: %v, want context.DeadlineExceeded", err)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("Shutdown took %v with a 300ms context", el)
	}
	if got := r.readClose(t); got.code != conn.StatusGoingAway {
		t.Errorf("close %d, want 1001", got.code)
	}
	icExpectEOF(t, r.c, r.br)
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Errorf("connection accepted after Shutdown")
	}
}

// TestAPIHandlerReturns: a handler that returns with its WebSocket open
// leaves the engine to finish the closing handshake gracefully: close 1000
// (Open), waiting for the answer to its own close (CloseSent), or echoing
// the peer's code (CloseReceived). The client's answer is accepted and the
// server ends TCP with a FIN.
func TestAPIHandlerReturns(t *testing.T) {
	cases := []struct {
		name        string
		handler     func(w conn.WebSocket)
		clientFirst bool            // the client sends its close first
		want        conn.StatusCode // the server's close code
	}{
		{"open", func(w conn.WebSocket) {}, false, conn.StatusNormalClosure},
		{"after SendClose", func(w conn.WebSocket) { w.SendClose(4020, "handler leaves") }, false, 4020},
		{"after receiving the close", func(w conn.WebSocket) {
			if msg, err := w.Receive(); err != nil || msg.Type != conn.Close {
				t.Errorf("Receive: %v %v, want the close", msg.Type, err)
			}
		}, true, 4021},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, done := apiServe(t, engine.Config{}, func(_ *upgrade.Context, w conn.WebSocket) { tc.handler(w) })
			for range 5 {
				r := apiDialRaw(t, s.addr, apiPath, 0)
				if tc.clientFirst {
					r.writeClose(t, 4021, "client first")
				}
				got := r.readClose(t)
				if got.code != tc.want {
					t.Fatalf("server's close %d %q, want %d", got.code, got.reason, tc.want)
				}
				if !tc.clientFirst {
					time.Sleep(20 * time.Millisecond) // a client that takes its time
					r.writeClose(t, got.code, "")
				}
				icExpectEOF(t, r.c, r.br)
				if tc.clientFirst {
					break
				}
			}
			apiDone(t, done, "the handler")
		})
	}
}

// TestAPIShutdownDuringClose: Shutdown while a handler's Close waits for
// the peer's answer lets that handshake finish: Close returns nil when the
// peer answers, and Shutdown returns nil.
func TestAPIShutdownDuringClose(t *testing.T) {
	closeErr := make(chan error, 1)
	srv := engine.New(engine.Config{Addr: "127.0.0.1:0", EventLoops: 1})
	srv.HandleFunc(apiPath, func(ctx *upgrade.Context) {
		w, err := ctx.Upgrader().Upgrade()
		if err != nil {
			closeErr <- err
			return
		}
		closeErr <- w.Close(4030, "closing")
	})
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	r := apiDialRaw(t, srv.Addr().String(), apiPath, 0)
	if got := r.readClose(t); got.code != 4030 {
		t.Fatalf("server's close %d, want 4030", got.code)
	}
	shut := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), icTimeout)
		defer cancel()
		shut <- srv.Shutdown(ctx)
	}()
	apiAwaitShutdown(t, srv.Addr().String())
	r.writeClose(t, 4030, "")
	icExpectEOF(t, r.c, r.br)
	r.c.Close() // like a real client once the server closed
	if err := icRecv(t, closeErr, icTimeout, "Close"); err != nil {
		t.Errorf("Close: %v, want nil", err)
	}
	if err := icRecv(t, shut, 2*icTimeout, "Shutdown"); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
}

// apiAwaitShutdown waits until the server at addr is shutting down: it
// then closes new connections at once.
func apiAwaitShutdown(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(icTimeout)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return // no longer listening
		}
		c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		_, err = c.Read(make([]byte, 1))
		c.Close()
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			return // closed at once
		}
	}
	t.Fatal("the server did not start shutting down")
}

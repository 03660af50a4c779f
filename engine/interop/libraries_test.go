package interop

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	coder "github.com/coder/websocket"
	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
	"github.com/gorilla/websocket"

	"github.com/volley-ws/volley/conn"
)

// ---------------------------------------------------------------------------
// The three client libraries behind one interface.

// icClient is a WebSocket client library driven by the interop tests. Every
// method fails the test on an unexpected result.
type icClient interface {
	send(t *testing.T, typ conn.MessageType, p []byte)
	// sendFragmented sends one message made of parts, as several frames.
	sendFragmented(t *testing.T, typ conn.MessageType, parts [][]byte)
	recv(t *testing.T) (conn.MessageType, []byte)
	// ping sends a ping with payload and checks the pong carries it.
	ping(t *testing.T, payload []byte)
	// closeClient starts the closing handshake and checks the server's
	// answer echoes code.
	closeClient(t *testing.T, code conn.StatusCode, reason string)
	// awaitServerClose reads until the server's close, answers it and
	// returns its code and reason.
	awaitServerClose(t *testing.T) icCloseInfo
}

type icDialer struct {
	name string
	dial func(t *testing.T, url string) icClient
}

var icDialers = []icDialer{
	{"gorilla", icDialGorilla},
	{"gobwas", icDialGobwas},
	{"coder", icDialCoder},
}

// --- gorilla/websocket ---

// icGorilla dials url with gorilla/websocket.
func icGorilla(t *testing.T, url string) *websocket.Conn {
	t.Helper()
	d := websocket.Dialer{HandshakeTimeout: icTimeout}
	c, resp, err := d.Dial(url, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	resp.Body.Close()
	t.Cleanup(func() { c.Close() })
	c.SetReadDeadline(time.Now().Add(2 * icTimeout))
	c.SetWriteDeadline(time.Now().Add(2 * icTimeout))
	return c
}

type icGorillaClient struct{ c *websocket.Conn }

func icDialGorilla(t *testing.T, url string) icClient {
	t.Helper()
	return &icGorillaClient{c: icGorilla(t, url)}
}

func icGorillaType(typ conn.MessageType) int {
	if typ == conn.Text {
		return websocket.TextMessage
	}
	return websocket.BinaryMessage
}

func (g *icGorillaClient) send(t *testing.T, typ conn.MessageType, p []byte) {
	t.Helper()
	if err := g.c.WriteMessage(icGorillaType(typ), p); err != nil {
		t.Fatalf("gorilla write: %v", err)
	}
}

func (g *icGorillaClient) sendFragmented(t *testing.T, typ conn.MessageType, parts [][]byte) {
	t.Helper()
	// gorilla turns each full write buffer (4 KiB by default) into a
	// frame: parts larger than that make a fragmented message.
	w, err := g.c.NextWriter(icGorillaType(typ))
	if err != nil {
		t.Fatalf("gorilla NextWriter: %v", err)
	}
	for _, p := range parts {
		if _, err := w.Write(p); err != nil {
			t.Fatalf("gorilla fragment write: %v", err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatalf("gorilla fragment close: %v", err)
	}
}

func (g *icGorillaClient) recv(t *testing.T) (conn.MessageType, []byte) {
	t.Helper()
	typ, p, err := g.c.ReadMessage()
	if err != nil {
		t.Fatalf("gorilla read: %v", err)
	}
	if typ == websocket.TextMessage {
		return conn.Text, p
	}
	return conn.Binary, p
}

func (g *icGorillaClient) ping(t *testing.T, payload []byte) {
	t.Helper()
	pongs := make(chan string, 1)
	g.c.SetPongHandler(func(s string) error { pongs <- s; return nil })
	if err := g.c.WriteControl(websocket.PingMessage, payload, time.Now().Add(icTimeout)); err != nil {
		t.Fatalf("gorilla ping: %v", err)
	}
	// The pong is handled while reading: the echo of a message sent after
	// the ping comes after the pong.
	g.send(t, conn.Text, []byte("after ping"))
	if _, p := g.recv(t); string(p) != "after ping" {
		t.Fatalf("echo after ping: %q", p)
	}
	select {
	case got := <-pongs:
		if got != string(payload) {
			t.Fatalf("pong payload %q, want %q", got, payload)
		}
	default:
		t.Fatal("no pong before the echo of the next message")
	}
}

func (g *icGorillaClient) closeClient(t *testing.T, code conn.StatusCode, reason string) {
	t.Helper()
	msg := websocket.FormatCloseMessage(int(code), reason)
	if err := g.c.WriteControl(websocket.CloseMessage, msg, time.Now().Add(icTimeout)); err != nil {
		t.Fatalf("gorilla close: %v", err)
	}
	_, _, err := g.c.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != int(code) {
		t.Fatalf("after our close: %v, want the server's close %d", err, code)
	}
	icExpectEOF(t, g.c.NetConn(), nil)
	g.c.Close()
}

func (g *icGorillaClient) awaitServerClose(t *testing.T) icCloseInfo {
	t.Helper()
	// gorilla's default close handler answers with the same code.
	_, _, err := g.c.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) {
		t.Fatalf("waiting for the server's close: %v", err)
	}
	icExpectEOF(t, g.c.NetConn(), nil)
	g.c.Close()
	return icCloseInfo{conn.StatusCode(ce.Code), ce.Text}
}

// --- gobwas/ws ---

type icGobwasClient struct {
	c  net.Conn
	rw io.ReadWriter
}

func icDialGobwas(t *testing.T, url string) icClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), icTimeout)
	defer cancel()
	c, br, _, err := ws.Dialer{Timeout: icTimeout}.Dial(ctx, url)
	if err != nil {
		t.Fatalf("gobwas dial %s: %v", url, err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(2 * icTimeout))
	var r io.Reader = c
	if br != nil { // the server sent frames right after the 101
		r = br
	}
	return &icGobwasClient{c: c, rw: struct {
		io.Reader
		io.Writer
	}{r, c}}
}

func icGobwasOp(typ conn.MessageType) ws.OpCode {
	if typ == conn.Text {
		return ws.OpText
	}
	return ws.OpBinary
}

func (g *icGobwasClient) send(t *testing.T, typ conn.MessageType, p []byte) {
	t.Helper()
	if err := wsutil.WriteClientMessage(g.c, icGobwasOp(typ), p); err != nil {
		t.Fatalf("gobwas write: %v", err)
	}
}

func (g *icGobwasClient) sendFragmented(t *testing.T, typ conn.MessageType, parts [][]byte) {
	t.Helper()
	for i, p := range parts {
		op := ws.OpContinuation
		if i == 0 {
			op = icGobwasOp(typ)
		}
		f := ws.MaskFrame(ws.NewFrame(op, i == len(parts)-1, p))
		if err := ws.WriteFrame(g.c, f); err != nil {
			t.Fatalf("gobwas frame write: %v", err)
		}
	}
}

func (g *icGobwasClient) recv(t *testing.T) (conn.MessageType, []byte) {
	t.Helper()
	p, op, err := wsutil.ReadServerData(g.rw)
	if err != nil {
		t.Fatalf("gobwas read: %v", err)
	}
	if op == ws.OpText {
		return conn.Text, p
	}
	return conn.Binary, p
}

func (g *icGobwasClient) readFrame(t *testing.T) ws.Frame {
	t.Helper()
	//lint:ignore SA1019 the test reads frames of its own server, bounded by the test's deadline
	f, err := ws.ReadFrame(g.rw)
	if err != nil {
		t.Fatalf("gobwas read frame: %v", err)
	}
	if f.Header.Masked {
		t.Fatalf("server frame is masked")
	}
	return f
}

func (g *icGobwasClient) ping(t *testing.T, payload []byte) {
	t.Helper()
	if err := ws.WriteFrame(g.c, ws.MaskFrame(ws.NewPingFrame(payload))); err != nil {
		t.Fatalf("gobwas ping: %v", err)
	}
	f := g.readFrame(t)
	if f.Header.OpCode != ws.OpPong || !f.Header.Fin || !bytes.Equal(f.Payload, payload) {
		t.Fatalf("answer to ping: op %v fin %v payload %q, want a pong with %q", f.Header.OpCode, f.Header.Fin, f.Payload, payload)
	}
}

func (g *icGobwasClient) closeClient(t *testing.T, code conn.StatusCode, reason string) {
	t.Helper()
	body := ws.NewCloseFrameBody(ws.StatusCode(code), reason)
	if err := ws.WriteFrame(g.c, ws.MaskFrame(ws.NewCloseFrame(body))); err != nil {
		t.Fatalf("gobwas close: %v", err)
	}
	f := g.readFrame(t)
	if f.Header.OpCode != ws.OpClose {
		t.Fatalf("after our close: op %v, want close", f.Header.OpCode)
	}
	if got, _ := ws.ParseCloseFrameData(f.Payload); got != ws.StatusCode(code) {
		t.Fatalf("server's close code %d, want %d", got, code)
	}
	icExpectEOF(t, g.c, g.rw)
	g.c.Close()
}

func (g *icGobwasClient) awaitServerClose(t *testing.T) icCloseInfo {
	t.Helper()
	// wsutil's control handler answers the close with the same code.
	_, _, err := wsutil.ReadServerData(g.rw)
	var ce wsutil.ClosedError
	if !errors.As(err, &ce) {
		t.Fatalf("waiting for the server's close: %v", err)
	}
	icExpectEOF(t, g.c, g.rw)
	g.c.Close()
	return icCloseInfo{conn.StatusCode(ce.Code), ce.Reason}
}

// --- coder/websocket ---

type icCoderMsg struct {
	typ  coder.MessageType
	data []byte
	err  error
}

type icCoderClient struct {
	c    *coder.Conn
	msgs chan icCoderMsg // filled by the reader goroutine, closed at its end
}

func icDialCoder(t *testing.T, url string) icClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), icTimeout)
	defer cancel()
	c, resp, err := coder.Dial(ctx, url, nil)
	if err != nil {
		t.Fatalf("coder dial %s: %v", url, err)
	}
	if resp.Body != nil {
		resp.Body.Close()
	}
	c.SetReadLimit(4 << 20)
	cl := &icCoderClient{c: c, msgs: make(chan icCoderMsg, 16)}
	// coder handles pongs and closes while a Read is running: read all the
	// time, on a goroutine that ends with the connection.
	readCtx, stop := context.WithCancel(context.Background())
	go func() {
		defer close(cl.msgs)
		for {
			typ, p, err := c.Read(readCtx)
			cl.msgs <- icCoderMsg{typ, p, err}
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		stop()
		c.CloseNow()
		for range cl.msgs {
		}
	})
	return cl
}

func (k *icCoderClient) ctx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), icTimeout)
	t.Cleanup(cancel)
	return ctx
}

func icCoderType(typ conn.MessageType) coder.MessageType {
	if typ == conn.Text {
		return coder.MessageText
	}
	return coder.MessageBinary
}

func (k *icCoderClient) send(t *testing.T, typ conn.MessageType, p []byte) {
	t.Helper()
	if err := k.c.Write(k.ctx(t), icCoderType(typ), p); err != nil {
		t.Fatalf("coder write: %v", err)
	}
}

func (k *icCoderClient) sendFragmented(t *testing.T, typ conn.MessageType, parts [][]byte) {
	t.Helper()
	// Every Write of coder's message writer is one frame.
	w, err := k.c.Writer(k.ctx(t), icCoderType(typ))
	if err != nil {
		t.Fatalf("coder Writer: %v", err)
	}
	for _, p := range parts {
		if _, err := w.Write(p); err != nil {
			t.Fatalf("coder fragment write: %v", err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatalf("coder fragment close: %v", err)
	}
}

func (k *icCoderClient) recv(t *testing.T) (conn.MessageType, []byte) {
	t.Helper()
	var m icCoderMsg
	select {
	case m = <-k.msgs:
	case <-time.After(icTimeout):
		t.Fatal("coder: no message")
	}
	if m.err != nil {
		t.Fatalf("coder read: %v", m.err)
	}
	if m.typ == coder.MessageText {
		return conn.Text, m.data
	}
	return conn.Binary, m.data
}

func (k *icCoderClient) ping(t *testing.T, _ []byte) {
	t.Helper()
	// coder chooses the payload and returns only once a pong with the same
	// payload arrived.
	if err := k.c.Ping(k.ctx(t)); err != nil {
		t.Fatalf("coder ping: %v", err)
	}
}

func (k *icCoderClient) closeClient(t *testing.T, code conn.StatusCode, reason string) {
	t.Helper()
	// Close returns nil only after a close frame with the same code came
	// back from the server.
	if err := k.c.Close(coder.StatusCode(code), reason); err != nil {
		t.Fatalf("coder close: %v", err)
	}
	// The reader goroutine sees that close, or, when Close read it first,
	// the closed connection.
	m := icRecv(t, k.msgs, icTimeout, "coder reader end")
	if got := coder.CloseStatus(m.err); got != coder.StatusCode(code) && !errors.Is(m.err, net.ErrClosed) {
		t.Fatalf("reader ended with %v, want the server's close %d", m.err, code)
	}
}

func (k *icCoderClient) awaitServerClose(t *testing.T) icCloseInfo {
	t.Helper()
	m := icRecv(t, k.msgs, icTimeout, "server close")
	var ce coder.CloseError
	if !errors.As(m.err, &ce) {
		t.Fatalf("waiting for the server's close: %v", m.err)
	}
	return icCloseInfo{conn.StatusCode(ce.Code), ce.Reason}
}

// ---------------------------------------------------------------------------
// Tests.

var icSizes = []int{0, 125, 126, 65535, 65536, 1 << 20}

// TestInterop runs every client library against both APIs: messages of the
// sizes where the frame header changes, text and binary, a fragmented
// message, a ping, and a client-initiated close whose code and reason must
// reach the server.
func TestInterop(t *testing.T) {
	s := icStartInterop(t)
	apis := []struct {
		name   string
		path   string
		closed chan icCloseInfo
	}{
		{"blocking", icEchoPath, s.echoClosed},
		{"events", icEventsPath, s.eventsClosed},
	}
	for _, d := range icDialers {
		for _, api := range apis {
			t.Run(d.name+"/"+api.name, func(t *testing.T) {
				c := d.dial(t, s.url(api.path))
				for _, typ := range []conn.MessageType{conn.Text, conn.Binary} {
					for i, n := range icSizes {
						want := icPayload(typ, n, int64(i))
						c.send(t, typ, want)
						gotType, got := c.recv(t)
						if gotType != typ || !bytes.Equal(got, want) {
							t.Fatalf("%v of %d bytes: echoed as %v of %d bytes (equal %v)",
								typ, n, gotType, len(got), bytes.Equal(got, want))
						}
					}
				}

				// A text message whose fragments split a character.
				euro := []byte("€")
				parts := [][]byte{
					append(bytes.Repeat([]byte("a"), 5000), euro[:1]...),
					append(append([]byte(nil), euro[1:]...), icPayload(conn.Text, 9000, 7)...),
					[]byte("end"),
				}
				want := bytes.Join(parts, nil)
				c.sendFragmented(t, conn.Text, parts)
				if typ, got := c.recv(t); typ != conn.Text || !bytes.Equal(got, want) {
					t.Fatalf("fragmented message echoed as %v of %d bytes, want text of %d", typ, len(got), len(want))
				}
				bin := [][]byte{icPayload(conn.Binary, 6000, 1), icPayload(conn.Binary, 1, 2), icPayload(conn.Binary, 8000, 3)}
				c.sendFragmented(t, conn.Binary, bin)
				if typ, got := c.recv(t); typ != conn.Binary || !bytes.Equal(got, bytes.Join(bin, nil)) {
					t.Fatalf("fragmented binary message echoed as %v of %d bytes", typ, len(got))
				}

				c.ping(t, []byte("ping-"+d.name))

				c.closeClient(t, 4000, "client bye "+d.name)
				got := icRecv(t, api.closed, icTimeout, "the server's view of the close")
				if got.code != 4000 || got.reason != "client bye "+d.name {
					t.Fatalf("server saw close %d %q, want 4000 %q", got.code, got.reason, "client bye "+d.name)
				}
			})
		}
	}
}

// TestInteropServerClose checks a close started by the server, 1001 "bye",
// with every client library: the client sees the code and reason, answers,
// and the server's side completes (blocking Close returns nil; the event
// API's OnClose reports the client's answer, not an abnormal closure).
func TestInteropServerClose(t *testing.T) {
	s := icStartInterop(t)
	for _, d := range icDialers {
		t.Run(d.name+"/blocking", func(t *testing.T) {
			c := d.dial(t, s.url(icByePath))
			got := c.awaitServerClose(t)
			if got.code != conn.StatusGoingAway || got.reason != "bye" {
				t.Fatalf("client saw close %d %q, want 1001 \"bye\"", got.code, got.reason)
			}
			if err := icRecv(t, s.byeResult, icTimeout, "the server's Close"); err != nil {
				t.Fatalf("server's Close: %v, want nil", err)
			}
		})
		t.Run(d.name+"/events", func(t *testing.T) {
			c := d.dial(t, s.url(icEventsByePath))
			got := c.awaitServerClose(t)
			if got.code != conn.StatusGoingAway || got.reason != "bye" {
				t.Fatalf("client saw close %d %q, want 1001 \"bye\"", got.code, got.reason)
			}
			end := icRecv(t, s.eventsBye, icTimeout, "OnClose")
			if end.code != conn.StatusGoingAway {
				t.Fatalf("OnClose: %d %q, want the client's answer 1001", end.code, end.reason)
			}
		})
	}
}

// TestInteropConcurrentClients runs a few clients of each library at once
// against both APIs, each exchanging messages of varied sizes.
func TestInteropConcurrentClients(t *testing.T) {
	s := icStartInterop(t)
	for i := range 3 {
		for _, d := range icDialers {
			for _, path := range []string{icEchoPath, icEventsPath} {
				t.Run(fmt.Sprintf("%s%s/%d", d.name, path, i), func(t *testing.T) {
					t.Parallel()
					c := d.dial(t, s.url(path))
					for k := range 20 {
						want := icPayload(conn.Binary, 100+k*997, int64(i*100+k))
						c.send(t, conn.Binary, want)
						if _, got := c.recv(t); !bytes.Equal(got, want) {
							t.Fatalf("message %d not echoed intact", k)
						}
					}
					c.closeClient(t, conn.StatusNormalClosure, "")
				})
			}
		}
	}
}

package engine_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/volley-ws/volley/conn"
	"github.com/volley-ws/volley/engine"
	"github.com/volley-ws/volley/internal/wsclient"
	"github.com/volley-ws/volley/internal/wstest"
	"github.com/volley-ws/volley/upgrade"
)

// apiEventRec is an EventHandler that records its calls, hands out the
// Conn on OnOpen and OnClose's error, and runs onMessage (default: echo).
type apiEventRec struct {
	mu        sync.Mutex
	events    []string
	remote    string // RemoteAddr in OnOpen (loop-only method)
	opened    chan *engine.Conn
	closed    chan error
	onMessage func(c *engine.Conn, t conn.MessageType, p []byte)
}

func apiNewEventRec() *apiEventRec {
	return &apiEventRec{opened: make(chan *engine.Conn, 1), closed: make(chan error, 1)}
}

func (h *apiEventRec) record(format string, args ...any) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.events = append(h.events, fmt.Sprintf(format, args...))
}

func (h *apiEventRec) log() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.events...)
}

func (h *apiEventRec) OnOpen(c *engine.Conn) {
	h.record("open %s", c.Request().Path)
	h.remote = c.RemoteAddr().String()
	h.opened <- c
}

func (h *apiEventRec) OnMessage(c *engine.Conn, t conn.MessageType, p []byte) {
	h.record("message %v %q", t, p)
	if h.onMessage != nil {
		h.onMessage(c, t, p)
		return
	}
	if err := c.Send(t, p); err != nil {
		h.record("echo failed: %v", err)
	}
}

func (h *apiEventRec) OnClose(c *engine.Conn, err error) {
	var ce *conn.CloseError
	if errors.As(err, &ce) {
		h.record("close %d %q", ce.Code, ce.Reason)
	} else {
		h.record("close with %T %v", err, err)
	}
	h.closed <- err
}

func apiServeEvents(t *testing.T, cfg engine.Config, h engine.EventHandler) *icServer {
	t.Helper()
	return icStart(t, cfg, func(srv *engine.Server) { srv.HandleEvents(icEventsPath, h) })
}

// TestAPIEventOrder: OnOpen, then OnMessage for each message in order, then
// OnClose once with the client's close code and reason.
func TestAPIEventOrder(t *testing.T) {
	h := apiNewEventRec()
	s := apiServeEvents(t, engine.Config{}, h)
	c := icDial(t, s.url(icEventsPath))
	icRecv(t, h.opened, icTimeout, "OnOpen")
	if got, local := h.remote, c.NetConn().LocalAddr(); got != local.String() {
		t.Errorf("RemoteAddr %s, want the client's %s", got, local)
	}
	c.Send(wsclient.Text, []byte("one"))
	c.Send(wsclient.Binary, []byte("two"))
	c.Send(wsclient.Text, nil)
	for _, want := range []string{"one", "two", ""} {
		if _, p, err := icReceive(t, c); err != nil || string(p) != want {
			t.Fatalf("echo: %q %v, want %q", p, err, want)
		}
	}
	c.SendClose(4005, "client leaves")
	if _, _, err := icReceive(t, c); !icIsClose(err, 4005) {
		t.Fatalf("after the close: %v, want the echo of 4005", err)
	}
	c.CloseNow()
	err := icRecv(t, h.closed, icTimeout, "OnClose")
	var ce *conn.CloseError
	if !errors.As(err, &ce) || ce.Code != 4005 || ce.Reason != "client leaves" {
		t.Fatalf("OnClose: %v, want *CloseError 4005 \"client leaves\"", err)
	}
	want := []string{
		`open /events`,
		`message text "one"`,
		`message binary "two"`,
		`message text ""`,
		`close 4005 "client leaves"`,
	}
	if got := h.log(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("events:\n%q\nwant:\n%q", got, want)
	}
	select {
	case err := <-h.closed:
		t.Fatalf("OnClose called twice (%v)", err)
	case <-time.After(50 * time.Millisecond):
	}
}

// TestAPIEventFragmented: a message sent as fragments in separate TCP
// segments, with a ping in between, reaches OnMessage once and whole.
func TestAPIEventFragmented(t *testing.T) {
	h := apiNewEventRec()
	s := apiServeEvents(t, engine.Config{}, h)
	r := apiDialRaw(t, s.addr, icEventsPath, 0)
	icRecv(t, h.opened, icTimeout, "OnOpen")
	parts := [][]byte{[]byte("frag-one "), bytes.Repeat([]byte("ü"), 3000), []byte(" end\xe2\x82"), []byte("\xac")}
	for i, p := range parts {
		op := ws.OpContinuation
		if i == 0 {
			op = ws.OpText
		}
		r.write(t, op, i == len(parts)-1, p)
		if i == 1 {
			r.write(t, ws.OpPing, true, []byte("p"))
		}
		time.Sleep(20 * time.Millisecond) // separate reads on the server
	}
	if f := r.read(t); f.Header.OpCode != ws.OpPong {
		t.Fatalf("got %v, want the pong first", f.Header.OpCode)
	}
	want := bytes.Join(parts, nil)
	f := r.read(t)
	if f.Header.OpCode != ws.OpText || !f.Header.Fin || !bytes.Equal(f.Payload, want) {
		t.Fatalf("echo: %v fin=%v %d bytes, want one text frame of %d bytes", f.Header.OpCode, f.Header.Fin, len(f.Payload), len(want))
	}
	messages := 0
	for _, e := range h.log() {
		if bytes.HasPrefix([]byte(e), []byte("message")) {
			messages++
		}
	}
	if messages != 1 {
		t.Fatalf("OnMessage called %d times, want 1", messages)
	}
	r.writeClose(t, conn.StatusNormalClosure, "")
	r.readClose(t)
	icExpectEOF(t, r.c, r.br)
}

// TestAPIEventSend: Send from inside OnMessage and from another goroutine
// both arrive; invalid sends are refused.
func TestAPIEventSend(t *testing.T) {
	h := apiNewEventRec()
	h.onMessage = func(c *engine.Conn, typ conn.MessageType, p []byte) {
		c.SendText("reply to " + string(p))
		c.Send(conn.Binary, p)
	}
	s := apiServeEvents(t, engine.Config{}, h)
	c := icDial(t, s.url(icEventsPath))
	ec := icRecv(t, h.opened, icTimeout, "OnOpen")

	for name, err := range map[string]error{
		"invalid UTF-8":  ec.Send(conn.Text, []byte("\xff")),
		"Close type":     ec.Send(conn.Close, nil),
		"unknown type":   ec.Send(conn.MessageType(7), []byte("x")),
		"invalid code":   ec.Close(conn.StatusAbnormalClosure, ""),
		"reserved code":  ec.Close(999, ""),
		"reserved 1015 ": ec.Close(conn.StatusTLSHandshake, ""),
	} {
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
	}

	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := ec.SendText(fmt.Sprintf("outside %d", i)); err != nil {
				t.Errorf("SendText from goroutine %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	c.Send(wsclient.Text, []byte("hi"))

	got := map[string]int{}
	for range 6 {
		typ, p, err := icReceive(t, c)
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		got[fmt.Sprintf("%d %s", int(typ), p)]++ // 1 text, 2 binary: the opcodes
	}
	want := map[string]int{
		"1 outside 0": 1, "1 outside 1": 1, "1 outside 2": 1, "1 outside 3": 1,
		"1 reply to hi": 1, "2 hi": 1,
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("client got %v, want %v", got, want)
	}
	c.SendClose(1000, "")
	icReceive(t, c)
	c.CloseNow()
	icRecv(t, h.closed, icTimeout, "OnClose")
}

// TestAPIEventServerClose: Conn.Close from OnMessage: the client sees the
// code and reason, later sends fail with ErrClosed, and OnClose gets a
// *conn.CloseError with the code of the handshake.
func TestAPIEventServerClose(t *testing.T) {
	h := apiNewEventRec()
	sendAfter := make(chan error, 1)
	h.onMessage = func(c *engine.Conn, _ conn.MessageType, p []byte) {
		if err := c.Close(4010, "as requested"); err != nil {
			t.Errorf("Close: %v", err)
		}
		sendAfter <- c.SendText("too late")
	}
	s := apiServeEvents(t, engine.Config{}, h)
	c := icDial(t, s.url(icEventsPath))
	c.Send(wsclient.Text, []byte("close please"))
	_, _, err := icReceive(t, c)
	var ce *wsclient.CloseError
	if !errors.As(err, &ce) || ce.Code != 4010 || ce.Reason != "as requested" {
		t.Fatalf("client got %v, want close 4010 \"as requested\"", err)
	}
	if err := icRecv(t, sendAfter, icTimeout, "Send after Close"); !errors.Is(err, conn.ErrClosed) {
		t.Errorf("Send after Close: %v, want ErrClosed", err)
	}
	c.CloseNow()
	end := icRecv(t, h.closed, icTimeout, "OnClose")
	var cerr *conn.CloseError
	if !errors.As(end, &cerr) || cerr.Code != 4010 {
		t.Fatalf("OnClose: %v, want *conn.CloseError 4010", end)
	}
}

// TestAPIEventSendQueueFull: a client that never reads fills the queue:
// Send returns ErrSendQueueFull once MaxUnsentBytes are pending, well
// before the kernel buffers and the limit are exceeded by much; Abort then
// ends the connection and OnClose reports an abnormal closure.
func TestAPIEventSendQueueFull(t *testing.T) {
	const limit = 64 << 10
	h := apiNewEventRec()
	s := apiServeEvents(t, engine.Config{MaxUnsentBytes: limit}, h)
	tc := apiDialTCP(t, s.addr, 4096)
	if _, err := io.WriteString(tc, apiHandshake(s.addr, icEventsPath)); err != nil {
		t.Fatal(err)
	}
	ec := icRecv(t, h.opened, icTimeout, "OnOpen")
	msg := make([]byte, 16<<10)
	sent := 0
	deadline := time.Now().Add(icTimeout)
	var err error
	for time.Now().Before(deadline) {
		if err = ec.Send(conn.Binary, msg); err != nil {
			break
		}
		sent += len(msg)
	}
	if !errors.Is(err, conn.ErrSendQueueFull) {
		t.Fatalf("after %d bytes: Send returned %v, want ErrSendQueueFull", sent, err)
	}
	if sent > limit+16<<20 {
		t.Errorf("%d bytes accepted for a client that reads nothing", sent)
	}
	if u := ec.Unsent(); u < limit-len(msg) {
		t.Errorf("Unsent %d with a full queue, want about %d", u, limit)
	}
	t.Logf("ErrSendQueueFull after %d KiB, %d KiB unsent", sent>>10, ec.Unsent()>>10)
	ec.Abort()
	end := icRecv(t, h.closed, icTimeout, "OnClose")
	if conn.CloseStatus(end) != conn.StatusAbnormalClosure {
		t.Fatalf("OnClose after Abort: %v, want 1006", end)
	}
	if err := ec.SendText("x"); !errors.Is(err, conn.ErrClosed) {
		t.Errorf("Send after Abort: %v, want ErrClosed", err)
	}
}

// TestAPIEventPlainGET: a plain GET to an event route is answered 426 with
// the headers that say how to upgrade.
func TestAPIEventPlainGET(t *testing.T) {
	h := apiNewEventRec()
	s := apiServeEvents(t, engine.Config{}, h)
	resp, err := http.Get("http://" + s.addr + icEventsPath)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUpgradeRequired {
		t.Fatalf("status %s, want 426", resp.Status)
	}
	if resp.Header.Get("Upgrade") != "websocket" || resp.Header.Get("Sec-WebSocket-Version") != "13" {
		t.Fatalf("headers %v, want Upgrade: websocket and Sec-WebSocket-Version: 13", resp.Header)
	}
	if ev := h.log(); len(ev) != 0 {
		t.Fatalf("callbacks ran for a plain GET: %q", ev)
	}
}

// TestAPIEventRequestKept: the handshake is parsed in place in the loop's
// input buffer (the subprotocol is kept as an index, which
// Conn.Subprotocol turns back into the configured name), and Conn.Request
// hands OnOpen a copy that owns its memory.
// A request kept from OnOpen (and a header string taken from it) must
// survive the input buffer being reused by messages and by later
// handshakes; after OnOpen, Request returns nil.
func TestAPIEventRequestKept(t *testing.T) {
	type kept struct {
		req   *upgrade.Request
		token string
		same  bool
		proto string
	}
	opened := make(chan kept, 4)
	later := make(chan bool, 4)
	h := &apiEventFuncs{
		open: func(c *engine.Conn) {
			r := c.Request()
			opened <- kept{req: r, token: r.Header.Get("X-Token"), same: c.Request() == r, proto: c.Subprotocol()}
		},
		message: func(c *engine.Conn, t conn.MessageType, p []byte) {
			later <- c.Request() == nil
			c.Send(t, p)
		},
	}
	s := apiServeEvents(t, engine.Config{EventLoops: 1, Upgrade: upgrade.Options{Subprotocols: []string{"one", "two"}}}, h)
	var got []kept
	protos := []string{"two", ""}
	for i, tok := range []string{"first-token", "second-token-longer"} {
		o := &wsclient.Options{Header: http.Header{"X-Token": {tok}}}
		if protos[i] != "" {
			o.Subprotocols = []string{"three", protos[i]}
		}
		c, _ := icDialWith(t, s.url(icEventsPath)+fmt.Sprintf("?n=%d", i), o)
		got = append(got, icRecv(t, opened, icTimeout, "OnOpen"))
		msg := bytes.Repeat([]byte{'z'}, 300) // overwrites the bytes the handshake was read into
		c.Send(wsclient.Binary, msg)
		if _, p, err := icReceive(t, c); err != nil || !bytes.Equal(p, msg) {
			t.Fatalf("echo: %v", err)
		}
		if !icRecv(t, later, icTimeout, "OnMessage") {
			t.Error("Request is not nil after OnOpen")
		}
	}
	for i, k := range got {
		wantTok := []string{"first-token", "second-token-longer"}[i]
		if k.proto != protos[i] {
			t.Errorf("Subprotocol in OnOpen %d: %q, want %q", i, k.proto, protos[i])
		}
		if !k.same || k.token != wantTok || k.req.Header.Get("X-Token") != wantTok ||
			k.req.Path != icEventsPath || k.req.RawQuery != fmt.Sprintf("n=%d", i) || k.req.Method != "GET" {
			t.Errorf("kept request %d: same %v, token %q, path %q, query %q, X-Token %q", i, k.same, k.token,
				k.req.Path, k.req.RawQuery, k.req.Header.Get("X-Token"))
		}
	}
}

// apiEventFuncs is an EventHandler made of functions; nil ones do nothing.
type apiEventFuncs struct {
	open    func(*engine.Conn)
	message func(*engine.Conn, conn.MessageType, []byte)
}

func (h *apiEventFuncs) OnOpen(c *engine.Conn) {
	if h.open != nil {
		h.open(c)
	}
}

func (h *apiEventFuncs) OnMessage(c *engine.Conn, t conn.MessageType, p []byte) {
	if h.message != nil {
		h.message(c, t, p)
	}
}

func (h *apiEventFuncs) OnClose(*engine.Conn, error) {}

// TestHandleEventsLimit: connections name their EventHandler by a 16-bit
// index, so a server takes at most 65,535 HandleEvents calls; one more is
// a configuration error that Start reports.
func TestHandleEventsLimit(t *testing.T) {
	srv := engine.New(engine.Config{Addr: "127.0.0.1:0"})
	h := icEventEcho{closed: make(chan icCloseInfo, 1)}
	for i := range 65535 {
		srv.HandleEvents("/"+strconv.Itoa(i), h)
	}
	srv.HandleEvents("/one-more", h)
	err := srv.Start()
	if err == nil {
		_ = srv.Shutdown(context.Background())
		t.Fatal("Start accepted 65,536 event routes")
	}
	if !strings.Contains(err.Error(), "HandleEvents") {
		t.Errorf("Start: %v, want the HandleEvents limit", err)
	}
}

// TestAPIEventSubprotocolLimit: a connection names its subprotocol by a
// one-byte index, so Config.Upgrade.Subprotocols takes at most
// MaxSubprotocols entries (one more is a configuration error), and the
// last of them round-trips through Conn.Subprotocol.
func TestAPIEventSubprotocolLimit(t *testing.T) {
	names := make([]string, engine.MaxSubprotocols+1)
	for i := range names {
		names[i] = "p" + strconv.Itoa(i)
	}
	over := engine.New(engine.Config{Addr: "127.0.0.1:0", Upgrade: upgrade.Options{Subprotocols: names}})
	over.HandleEvents(icEventsPath, &apiEventFuncs{})
	if err := over.Start(); err == nil {
		_ = over.Shutdown(context.Background())
		t.Fatalf("Start accepted %d subprotocols", len(names))
	} else if !strings.Contains(err.Error(), "Subprotocols") {
		t.Errorf("Start: %v, want the Subprotocols limit", err)
	}

	names = names[:engine.MaxSubprotocols]
	last := names[len(names)-1]
	got := make(chan string, 2)
	h := &apiEventFuncs{open: func(c *engine.Conn) { got <- c.Subprotocol() }}
	s := apiServeEvents(t, engine.Config{Upgrade: upgrade.Options{Subprotocols: names}}, h)
	for _, offer := range []string{last, names[0]} {
		c, _ := icDialWith(t, s.url(icEventsPath), &wsclient.Options{Subprotocols: []string{"none", offer}})
		if p := icRecv(t, got, icTimeout, "OnOpen"); p != offer || c.Subprotocol() != offer {
			t.Errorf("offered %q: server's Conn.Subprotocol %q, client's %q", offer, p, c.Subprotocol())
		}
		c.CloseNow()
	}
}

// TestAPIEventFailureReported: when the server fails an event connection,
// OnClose gets a *conn.CloseError with the code the client was sent, also
// when the failure comes in the middle of a fragmented message (whose
// joined bytes are given back), and when the client's own close follows
// the bad frame in the same write: the first reason the connection ended
// is the one reported.
func TestAPIEventFailureReported(t *testing.T) {
	text := func(fin bool, p string) []byte {
		return wstest.AppendFrame(nil, fin, 0, wstest.OpText, []byte(p), true)
	}
	cont := func(fin bool, p string) []byte {
		return wstest.AppendFrame(nil, fin, 0, wstest.OpContinuation, []byte(p), true)
	}
	closeFrame := wstest.AppendFrame(nil, true, 0, wstest.OpClose, wstest.ClosePayload(1000, "bye"), true)
	cases := []struct {
		name  string
		parts [][]byte // written one at a time, with a pause between
		code  int
	}{
		{"unmasked frame", [][]byte{wstest.AppendFrame(nil, true, 0, wstest.OpText, []byte("x"), false)}, 1002},
		{"invalid UTF-8", [][]byte{text(true, "ok \xff")}, 1007},
		{"too big", [][]byte{text(true, strings.Repeat("y", 200))}, 1009},
		{"OnMessage panics", [][]byte{text(true, "panic")}, 1011},
		{"bad frame inside a fragmented message", [][]byte{text(false, "first "), cont(false, "second "), text(true, "new message")}, 1002},
		{"bad frame, then the client's close", [][]byte{append(text(true, "\xc0"), closeFrame...)}, 1007},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := apiNewEventRec()
			h.onMessage = func(c *engine.Conn, mt conn.MessageType, p []byte) {
				if string(p) == "panic" {
					panic("test: OnMessage panics")
				}
				_ = c.Send(mt, p)
			}
			s := apiServeEvents(t, engine.Config{MaxMessageSize: 100}, h)
			c := wstest.Dial(t, s.addr, icEventsPath)
			defer c.Close()
			for i, p := range tc.parts {
				if i > 0 {
					time.Sleep(20 * time.Millisecond) // separate reads: the message state is kept between them
				}
				c.WriteRaw(p)
			}
			if before := c.ExpectClose(tc.code); len(before) != 0 {
				t.Fatalf("frames before close %d: %v", tc.code, before)
			}
			c.ExpectTCPClosed(5 * time.Second)
			c.Close()
			end := icRecv(t, h.closed, icTimeout, "OnClose")
			var ce *conn.CloseError
			if !errors.As(end, &ce) || int(ce.Code) != tc.code {
				t.Fatalf("OnClose: %v, want *conn.CloseError %d", end, tc.code)
			}
		})
	}
}

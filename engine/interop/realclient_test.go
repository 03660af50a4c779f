package interop

// Shared helpers of the real-client tests (browser_test.go, node_test.go,
// nginx_test.go): an echo server that records what each connection sent and
// how it ended, with cmd/volley's demo page, and the check for the external
// programs the tests drive.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/volley-ws/volley/conn"
	"github.com/volley-ws/volley/engine"
	"github.com/volley-ws/volley/upgrade"
)

// requireProgram returns path if it is an executable file. Otherwise the
// test fails (these tests are part of the suite: a machine without the
// program is not set up) saying how to install it (apt names the Debian
// packages), or is skipped in -short mode.
func requireProgram(t *testing.T, path, what, apt string) string {
	t.Helper()
	if fi, err := os.Stat(path); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
		return path
	}
	msg := fmt.Sprintf("%s not found at %s: run .ci/run (it installs what the tests need on Debian), or apt-get install -y %s and make deps", what, path, apt)
	if testing.Short() {
		t.Skip(msg)
	}
	t.Fatal(msg)
	return ""
}

// connRecord is what the echo server saw on one WebSocket connection.
type connRecord struct {
	// Query is the handshake request's query string: clients that open
	// several connections one after the other name each one there.
	Query string
	// Offer is the Sec-WebSocket-Extensions header of the handshake request.
	Offer string
	// Origin and Host are the handshake request's headers.
	Origin, Host string
	// Text and Binary count the data messages received; Bytes adds up their
	// sizes (after any decompression: what the application saw).
	Text, Binary int
	Bytes        int64
	// Code and Reason are from the peer's close frame when PeerClose is
	// set; otherwise Code is the code the connection ended with (the
	// server's own failure code, or 1006) and Reason the error.
	Code      conn.StatusCode
	Reason    string
	PeerClose bool
}

func (r connRecord) String() string {
	return fmt.Sprintf("{query %q, offer %q, %d text + %d binary messages, %d bytes, close %d %q (peer close frame: %v)}",
		r.Query, r.Offer, r.Text, r.Binary, r.Bytes, r.Code, r.Reason, r.PeerClose)
}

// echoServer is an in-process server whose /echo echoes text and binary
// messages, answers the peer's close with the same code and reason (the
// event API answers with the code only), and reports every connection's
// connRecord when it ends.
type echoServer struct {
	srv       *engine.Server
	api       string // "blocking" or "event"
	records   chan connRecord
	pageTitle string // the demo page's <title>
}

// serverOptions choose the server a real-client test runs against.
type serverOptions struct {
	api             string // "blocking" (HandleFunc) or "event" (HandleEvents)
	compression     bool   // cfg.Upgrade.Compression.Enabled
	contextTakeover bool   // cfg.Upgrade.Compression.ContextTakeover
}

func (o serverOptions) String() string {
	s := o.api
	if !o.compression {
		s += "-nodeflate"
	} else if o.contextTakeover {
		s += "-takeover"
	}
	return s
}

// demoPagePath is cmd/volley's demo page, in the volley checkout that
// go.mod's replace directive points at (the parent directory).
var demoPagePath = filepath.Join("..", "..", "cmd", "volley", "page.html")

// demoPage returns a handler that serves cmd/volley's demo page as the
// binary does (its page handler: GET and HEAD, no caching), and the page's
// title. The page's echo WebSocket goes to /echo on the same host; its
// chat box's WebSocket (/chat, cmd/volley's chat room, which is not served
// here) gets a 404 and stays closed.
func demoPage(t *testing.T) (h upgrade.HandlerFunc, title string) {
	t.Helper()
	html, err := os.ReadFile(demoPagePath)
	if err != nil {
		t.Fatalf("the demo page: %v", err)
	}
	_, rest, ok := strings.Cut(string(html), "<title>")
	title, _, ok2 := strings.Cut(rest, "</title>")
	if !ok || !ok2 {
		t.Fatalf("the demo page %s has no <title>", demoPagePath)
	}
	return func(ctx *upgrade.Context) {
		if ctx.Method() != http.MethodGet && ctx.Method() != http.MethodHead {
			ctx.SetStatusCode(http.StatusMethodNotAllowed)
			ctx.SetHeader("Allow", "GET, HEAD")
			return
		}
		ctx.SetHeader("Content-Type", "text/html; charset=utf-8")
		ctx.SetHeader("Cache-Control", "no-store")
		ctx.Write(html)
	}, title
}

// startEchoServer starts a server on 127.0.0.1:0 with the demo page on /
// and the recording echo on /echo; it is shut down when the test ends.
func startEchoServer(t *testing.T, o serverOptions) *echoServer {
	t.Helper()
	var cfg engine.Config
	cfg.Addr = "127.0.0.1:0"
	cfg.EventLoops = 2
	cfg.Upgrade.Compression.Enabled = o.compression
	cfg.Upgrade.Compression.ContextTakeover = o.contextTakeover
	s := &echoServer{srv: engine.New(cfg), api: o.api, records: make(chan connRecord, 64)}
	switch o.api {
	case "blocking":
		s.srv.HandleFunc("/echo", s.echo)
	case "event":
		s.srv.HandleEvents("/echo", recordingEvents{s})
	default:
		t.Fatalf("unknown api %q", o.api)
	}
	var pageHandler upgrade.HandlerFunc
	pageHandler, s.pageTitle = demoPage(t)
	s.srv.HandleFunc("/", pageHandler)
	if err := s.srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return s
}

// addr is the server's host:port.
func (s *echoServer) addr() string { return s.srv.Addr().String() }

// port is the server's port.
func (s *echoServer) port() string {
	a := s.addr()
	return a[strings.LastIndexByte(a, ':')+1:]
}

// nextRecord waits for the next connection whose handshake had the query
// string query to end, and returns its record. Records of other
// connections (left by an earlier test that failed) are skipped.
func (s *echoServer) nextRecord(t *testing.T, query string, wait time.Duration) connRecord {
	t.Helper()
	timeout := time.After(wait)
	for {
		select {
		case r := <-s.records:
			if r.Query == query {
				return r
			}
			t.Logf("skipping the record of another connection: %v", r)
		case <-timeout:
			t.Fatalf("the server's echo handler did not see the connection (query %q) end within %v", query, wait)
			return connRecord{}
		}
	}
}

// checkClose checks that the server saw the peer's close frame with code
// and reason.
func (s *echoServer) checkClose(t *testing.T, r connRecord, code conn.StatusCode, reason string) {
	t.Helper()
	if r.Code != code || r.Reason != reason {
		t.Errorf("server saw close %d %q, want %d %q; record %v", r.Code, r.Reason, code, reason, r)
	}
	if s.api == "blocking" && !r.PeerClose {
		t.Errorf("the blocking handler did not receive the peer's close frame: %v", r)
	}
}

// echoReason is the close reason the server answers a close with reason
// with: the blocking echo returns it, the event API answers with the code
// only.
func (s *echoServer) echoReason(reason string) string {
	if s.api == "blocking" {
		return reason
	}
	return ""
}

// echo is the blocking-API echo: a goroutine per WebSocket with Receive and
// Send.
func (s *echoServer) echo(ctx *upgrade.Context) {
	up := ctx.Upgrader()
	if up == nil {
		ctx.SetStatusCode(http.StatusBadRequest)
		ctx.WriteString("this is a WebSocket endpoint\n")
		return
	}
	rec := connRecord{
		Query:  ctx.Request().RawQuery,
		Offer:  ctx.Header("Sec-WebSocket-Extensions"),
		Origin: ctx.Header("Origin"),
		Host:   ctx.Header("Host"),
	}
	ws, err := up.Upgrade()
	if err != nil {
		return
	}
	defer func() { s.records <- rec }()
	for {
		msg, err := ws.Receive()
		if err != nil {
			rec.Code, rec.Reason = conn.CloseStatus(err), err.Error()
			if rec.Code == 0 {
				rec.Code = conn.StatusAbnormalClosure
			}
			return
		}
		switch msg.Type {
		case conn.Text, conn.Binary:
			if msg.Type == conn.Text {
				rec.Text++
			} else {
				rec.Binary++
			}
			rec.Bytes += int64(len(msg.Data))
			if err := ws.Send(msg.Type, msg.Data); err != nil {
				rec.Code, rec.Reason = conn.StatusAbnormalClosure, "send: "+err.Error()
				return
			}
		case conn.Close:
			rec.Code, rec.Reason, rec.PeerClose = msg.CloseStatus, msg.CloseReason, true
			code := msg.CloseStatus
			if code == conn.StatusNoStatusReceived {
				ws.SendClose(code, "")
			} else {
				ws.SendClose(code, msg.CloseReason)
			}
			return
		}
	}
}

// recordingEvents is the same echo on the event API.
type recordingEvents struct{ s *echoServer }

func (e recordingEvents) OnOpen(c *engine.Conn) {
	req := c.Request()
	c.SetUserData(&connRecord{
		Query:  req.RawQuery,
		Offer:  req.Header.Get("Sec-WebSocket-Extensions"),
		Origin: req.Header.Get("Origin"),
		Host:   req.Header.Get("Host"),
	})
}

func (e recordingEvents) OnMessage(c *engine.Conn, t conn.MessageType, payload []byte) {
	rec := c.UserData().(*connRecord)
	if t == conn.Text {
		rec.Text++
	} else {
		rec.Binary++
	}
	rec.Bytes += int64(len(payload))
	if err := c.Send(t, payload); err != nil {
		c.Close(conn.StatusTryAgainLater, "send queue full")
	}
}

func (e recordingEvents) OnClose(c *engine.Conn, err error) {
	rec := c.UserData().(*connRecord)
	// After a close handshake err carries the peer's code and reason; the
	// event API does not say whether the close was the peer's, so
	// PeerClose stays false.
	var ce *conn.CloseError
	if errors.As(err, &ce) {
		rec.Code, rec.Reason = ce.Code, ce.Reason
	} else {
		rec.Code, rec.Reason = conn.StatusAbnormalClosure, fmt.Sprint(err)
	}
	e.s.records <- *rec
}

// hasDeflate reports whether a Sec-WebSocket-Extensions value names
// permessage-deflate.
func hasDeflate(extensions string) bool {
	return strings.Contains(strings.ToLower(extensions), "permessage-deflate")
}

// noCompressionYet is appended to the failures of assertions that
// compression was negotiated.
const noCompressionYet = " (permessage-deflate must be negotiated: the server has cfg.Upgrade.Compression.Enabled)"

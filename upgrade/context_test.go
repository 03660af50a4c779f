package upgrade

import (
	"bytes"
	"errors"
	"net"
	"slices"
	"strings"
	"testing"

	"github.com/volley-ws/volley/conn"
)

// recordingBackend is a Backend that records the Accepted it was given.
type recordingBackend struct {
	calls    int
	protocol string
	accept   string
}

func (b *recordingBackend) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9}
}

func (b *recordingBackend) Upgrade(a *Accepted) (*conn.WebSocket, error) {
	b.calls++
	b.protocol, b.accept = a.Protocol, a.Accept()
	return nil, nil
}

// parseInPlace parses head from buf the way an engine does, in place.
func parseInPlace(t *testing.T, buf []byte) *Request {
	t.Helper()
	var r Request
	n, err := ParseRequestNoCopy(&r, buf, len(buf))
	if err != nil || n == 0 {
		t.Fatalf("ParseRequestNoCopy: n=%d err=%v", n, err)
	}
	return &r
}

func TestContextOwnsItsCopy(t *testing.T) {
	head := "POST /form?a=1&b=2 HTTP/1.1\r\nHost: example.com\r\nX-Token: secret\r\nContent-Length: 5\r\n\r\n"
	buf := []byte(head + "hello")
	req := parseInPlace(t, buf)
	body := buf[len(head):]
	ctx := NewContext(req, body, &recordingBackend{}, nil)

	// The engine reuses its input buffer and its Request.
	for i := range buf {
		buf[i] = 'x'
	}
	req.Reset()

	if ctx.Upgrader() != nil {
		t.Error("Upgrader() != nil for a plain POST")
	}
	if got := ctx.Method(); got != "POST" {
		t.Errorf("Method() = %q", got)
	}
	if got := ctx.Path(); got != "/form" {
		t.Errorf("Path() = %q", got)
	}
	if got := ctx.Query().Get("b"); got != "2" {
		t.Errorf("Query().Get(b) = %q", got)
	}
	if got := ctx.Header("x-token"); got != "secret" {
		t.Errorf("Header(x-token) = %q", got)
	}
	if got := ctx.RemoteAddr().String(); got != "127.0.0.1:9" {
		t.Errorf("RemoteAddr() = %q", got)
	}
	if got := ctx.Request().Host; got != "example.com" {
		t.Errorf("Request().Host = %q", got)
	}
	first := ctx.Request()
	if again := ctx.Request(); again != first {
		t.Error("Request() parses again on every call")
	}
	b := ctx.Body()
	if string(b) != "hello" {
		t.Errorf("Body() = %q", b)
	}
	// Appending to the body must not write over anything of the Context's.
	_ = append(b, " world"...)
	if ctx.Header("Content-Length") != "5" || string(ctx.Body()) != "hello" {
		t.Error("appending to Body() changed the Context")
	}
}

func TestContextNoBody(t *testing.T) {
	req := parseInPlace(t, []byte("GET / HTTP/1.1\r\nHost: h\r\n\r\n"))
	ctx := NewContext(req, nil, &recordingBackend{}, nil)
	if b := ctx.Body(); b != nil {
		t.Errorf("Body() = %q, want nil", b)
	}
}

func TestContextResponse(t *testing.T) {
	for _, tc := range []struct {
		method, want string
	}{
		{"GET", "HTTP/1.1 201 Created\r\nX-A: 2\r\nContent-Length: 2\r\n\r\nhi"},
		{"HEAD", "HTTP/1.1 201 Created\r\nX-A: 2\r\nContent-Length: 2\r\n\r\n"},
	} {
		req := parseInPlace(t, []byte(tc.method+" / HTTP/1.1\r\nHost: h\r\n\r\n"))
		ctx := NewContext(req, nil, &recordingBackend{}, nil)
		if ctx.StatusCode() != 200 {
			t.Errorf("%s: StatusCode() = %d before any is set", tc.method, ctx.StatusCode())
		}
		ctx.SetStatusCode(201)
		ctx.SetHeader("X-A", "1")
		ctx.SetHeader("x-a", "2")
		ctx.SetHeader("Content-Length", "99")
		_, _ = ctx.WriteString("h")
		_, _ = ctx.Write([]byte("i"))
		got := string(ctx.AppendResponse(nil, true))
		if got != tc.want {
			t.Errorf("%s: AppendResponse = %q, want %q", tc.method, got, tc.want)
		}
	}
}

func TestContextUpgrade(t *testing.T) {
	const hs = "GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
		"Sec-WebSocket-Protocol: v2, v1\r\n"
	opts := &Options{Subprotocols: []string{"v1"}}
	for _, tc := range []struct {
		name, extra string
		check       func(*Request) bool
		want        error
		status      int
	}{
		{"no origin", "", nil, nil, 101},
		{"same origin", "Origin: https://example.com\r\n", nil, nil, 101},
		{"cross origin", "Origin: https://evil.example\r\n", nil, ErrOriginRejected, 403},
		{"custom check accepts", "Origin: https://evil.example\r\n", func(r *Request) bool { return r.Header.Get("Origin") == "https://evil.example" }, nil, 101},
		{"custom check rejects", "", func(*Request) bool { return false }, ErrOriginRejected, 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			buf := []byte(hs + tc.extra + "\r\n")
			req := parseInPlace(t, buf)
			o := *opts
			calls := 0
			if tc.check != nil {
				o.CheckOrigin = func(r *Request) bool { calls++; return tc.check(r) }
			}
			be := &recordingBackend{}
			ctx := NewContext(req, nil, be, &o)
			if tc.check != nil && calls != 1 {
				t.Errorf("CheckOrigin called %d times by NewContext, want 1", calls)
			}
			for i := range buf {
				buf[i] = 0
			}
			up := ctx.Upgrader()
			if up == nil {
				t.Fatal("Upgrader() == nil for a handshake")
			}
			if got := up.Protocols(); strings.Join(got, ",") != "v2,v1" {
				t.Errorf("Protocols() = %q", got)
			}
			_, err := up.Upgrade()
			if !errors.Is(err, tc.want) {
				t.Fatalf("Upgrade() error = %v, want %v", err, tc.want)
			}
			if tc.check != nil && calls != 1 {
				t.Errorf("CheckOrigin called %d times in all, want 1", calls)
			}
			if tc.status == 101 {
				if be.calls != 1 || be.protocol != "v1" || be.accept != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
					t.Errorf("backend got %d calls, protocol %q, accept %q", be.calls, be.protocol, be.accept)
				}
				if !ctx.Upgraded() {
					t.Error("Upgraded() = false after Upgrade")
				}
			} else {
				resp := ctx.AppendResponse(nil, false)
				if be.calls != 0 || ctx.Upgraded() || !bytes.HasPrefix(resp, []byte("HTTP/1.1 403 ")) {
					t.Errorf("backend calls %d, Upgraded %v, response %q", be.calls, ctx.Upgraded(), resp)
				}
			}
			if _, err := up.Upgrade(); !errors.Is(err, ErrResponded) {
				t.Errorf("second Upgrade() error = %v, want ErrResponded", err)
			}
		})
	}
}

func TestContextBadHandshake(t *testing.T) {
	req := parseInPlace(t, []byte("GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 8\r\n\r\n"))
	be := &recordingBackend{}
	ctx := NewContext(req, nil, be, nil)
	_, err := ctx.Upgrader().Upgrade()
	if !errors.Is(err, ErrBadVersion) || be.calls != 0 {
		t.Fatalf("Upgrade() = %v with %d backend calls, want ErrBadVersion and none", err, be.calls)
	}
	resp := string(ctx.AppendResponse(nil, false))
	if !strings.HasPrefix(resp, "HTTP/1.1 426 ") || !strings.Contains(resp, "Sec-WebSocket-Version: 13\r\n") {
		t.Errorf("response = %q", resp)
	}
}

// TestNewContextAllocs: a handshake's Context costs the struct, one copy of
// the head and the negotiated handshake; the parsed request is made only
// when asked for.
func TestNewContextAllocs(t *testing.T) {
	buf := []byte("GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
	req := parseInPlace(t, buf)
	be := &recordingBackend{}
	var ctx *Context
	if n := testing.AllocsPerRun(100, func() { ctx = NewContext(req, nil, be, nil) }); n != 3 {
		t.Errorf("NewContext: %v allocations, want 3 (Context, head, Accepted)", n)
	}
	if ctx.req != nil {
		t.Error("NewContext parsed the request before it was asked for")
	}
}

// TestContextHandshakeErrors: every error the handshake check can give
// survives the Context's compact record of it.
func TestContextHandshakeErrors(t *testing.T) {
	for _, want := range append(slices.Clone(handshakeSentinels), ErrOriginRejected) {
		var c Context
		c.setHandshakeErr(want)
		if got := c.handshakeErr(); got != want {
			t.Errorf("kept %v, got back %v", want, got)
		}
	}
	var c Context
	if c.handshakeErr() != nil {
		t.Error("the zero Context has a handshake error")
	}
	c.setHandshakeErr(errors.New("other"))
	if c.handshakeErr() != ErrMalformedRequest {
		t.Errorf("an unknown error comes back as %v", c.handshakeErr())
	}
}

package upgrade

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/volley-ws/volley/conn"
	"github.com/volley-ws/volley/internal/hctx"
)

// fakeSource is the engine's side of a Context, for tests: a request, a
// body, and what Upgrade answers.
type fakeSource struct {
	req      Request
	body     []byte
	upgrade  bool
	head     bool
	err      error // what Upgrade returns
	upgrades int
}

func (s *fakeSource) Request() *Request    { return &s.req }
func (s *fakeSource) Body() []byte         { return s.body }
func (s *fakeSource) RemoteAddr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9} }
func (s *fakeSource) IsUpgrade() bool      { return s.upgrade }
func (s *fakeSource) IsHead() bool         { return s.head }
func (s *fakeSource) Upgrade() (conn.WebSocket, error) {
	s.upgrades++
	if s.err != nil {
		return nil, s.err
	}
	return fakeWebSocket{}, nil
}

// fakeWebSocket is what fakeSource's Upgrade returns.
type fakeWebSocket struct{ conn.WebSocket }

func (fakeWebSocket) Subprotocol() string { return "v1" }

// newContext makes the Context of src, as the engine does.
func newContext(src *fakeSource) *Context {
	var c hctx.Context[Request, HeaderField]
	c.Init(src)
	return (*Context)(&c)
}

func TestContextRequest(t *testing.T) {
	src := &fakeSource{body: []byte("hello")}
	src.req = Request{Method: "POST", Path: "/form", RawQuery: "a=1&b=2", Host: "example.com",
		Header: Header{{Name: "X-Token", Value: "secret"}, {Name: "Content-Length", Value: "5"}}}
	ctx := newContext(src)
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
	if string(ctx.Body()) != "hello" {
		t.Errorf("Body() = %q", ctx.Body())
	}
	if ctx.Upgraded() {
		t.Error("Upgraded() before any upgrade")
	}
}

func TestContextResponse(t *testing.T) {
	ctx := newContext(&fakeSource{})
	if ctx.StatusCode() != 200 {
		t.Errorf("StatusCode() = %d before any is set", ctx.StatusCode())
	}
	if (*hctx.Context[Request, HeaderField])(ctx).Response() != nil {
		t.Error("a Context that set nothing has a response")
	}
	ctx.SetStatusCode(201)
	ctx.SetHeader("X-A", "1")
	ctx.SetHeader("x-a", "2")
	ctx.SetHeader("Content-Length", "99")
	ctx.SetHeader("connection", "keep-alive")
	_, _ = ctx.WriteString("h")
	_, _ = ctx.Write([]byte("i"))
	r := (*hctx.Context[Request, HeaderField])(ctx).Response()
	if ctx.StatusCode() != 201 || r.Status != 201 || string(r.Body) != "hi" ||
		len(r.Header) != 1 || r.Header[0] != (HeaderField{Name: "X-A", Value: "2"}) {
		t.Errorf("response %+v", r)
	}
}

func TestContextUpgrade(t *testing.T) {
	src := &fakeSource{upgrade: true}
	src.req.Header = Header{{Name: "Sec-WebSocket-Protocol", Value: "v2, v1"}}
	ctx := newContext(src)
	up := ctx.Upgrader()
	if up == nil {
		t.Fatal("Upgrader() == nil for a handshake")
	}
	if got := up.Protocols(); strings.Join(got, ",") != "v2,v1" {
		t.Errorf("Protocols() = %q", got)
	}
	ws, err := up.Upgrade()
	if err != nil || ws == nil || ws.Subprotocol() != "v1" || src.upgrades != 1 || !ctx.Upgraded() {
		t.Fatalf("Upgrade() = %v, %v; %d upgrades, Upgraded %v", ws, err, src.upgrades, ctx.Upgraded())
	}
	if _, err := up.Upgrade(); !errors.Is(err, ErrResponded) || src.upgrades != 1 {
		t.Errorf("second Upgrade() = %v (%d upgrades), want ErrResponded", err, src.upgrades)
	}
}

// TestContextUpgradeRefused: a handshake the engine refuses becomes the
// response, with the status error's status, header and reason, and is
// answered only once.
func TestContextUpgradeRefused(t *testing.T) {
	for _, want := range []error{ErrBadVersion, ErrOriginRejected, ErrServiceUnavailable, context.Canceled} {
		src := &fakeSource{upgrade: true, err: want}
		ctx := newContext(src)
		ws, err := ctx.Upgrader().Upgrade()
		if ws != nil || !errors.Is(err, want) || ctx.Upgraded() {
			t.Fatalf("Upgrade() = %v, %v; want %v", ws, err, want)
		}
		se, ok := want.(*StatusError)
		if !ok {
			se = ErrMalformedRequest // what an error without a status is answered with
		}
		r := (*hctx.Context[Request, HeaderField])(ctx).Response()
		if ctx.StatusCode() != se.Status || string(r.Body) != se.Reason || len(r.Header) != len(se.Header) {
			t.Errorf("%v: response %+v", want, r)
		}
		if (*hctx.Context[Request, HeaderField])(ctx).Flags()&hctx.Refused == 0 {
			t.Errorf("%v: not marked refused", want)
		}
		if _, err := ctx.Upgrader().Upgrade(); !errors.Is(err, ErrResponded) || src.upgrades != 1 {
			t.Errorf("%v: second Upgrade() = %v", want, err)
		}
	}
}

func TestStatusErrorIs(t *testing.T) {
	wrapped := errors.Join(errors.New("context"), ErrBadKey)
	var se *StatusError
	if !errors.Is(wrapped, ErrBadKey) || !errors.As(wrapped, &se) || se != ErrBadKey || se.Error() != "upgrade: invalid Sec-WebSocket-Key" {
		t.Fatalf("errors.Is/As on a wrapped sentinel: %v", se)
	}
	if errors.Is(ErrMissingHost, ErrMalformedRequest) {
		t.Error("sentinels with equal status compare equal")
	}
}

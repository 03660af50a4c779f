package engine_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/volley-ws/volley/engine"
	"github.com/volley-ws/volley/internal/wsclient"
	"github.com/volley-ws/volley/upgrade"
)

// brDo sends req with client and returns the status, a header field and
// the body.
func brDo(t *testing.T, client *http.Client, req *http.Request, field string) (int, string, string) {
	t.Helper()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get(field), string(body)
}

// brHandshake returns a WebSocket handshake request for url.
func brHandshake(t *testing.T, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	req.Header.Set("Sec-WebSocket-Version", "13")
	return req
}

// brPlain answers plain requests on a HandleFunc route, echoing the body,
// and hands handshakes to cfEcho.
func brPlain(ctx *upgrade.Context) {
	if ctx.Upgrader() != nil {
		cfEcho(ctx)
		return
	}
	ctx.SetStatusCode(http.StatusCreated)
	ctx.SetHeader("X-Route", "plain")
	_, _ = ctx.WriteString(ctx.Method() + " " + ctx.Path() + "?" + ctx.Query().Get("q") + ": ")
	_, _ = ctx.Write(ctx.Body())
}

// TestBridgePlainHTTP: requests that are not handshakes are served
// through net/http: by a HandleFunc route's handler, with its status,
// fields and body; 426 on an event route; 404 without a route; 413 for a
// body over MaxRequestBody.
func TestBridgePlainHTTP(t *testing.T) {
	s := icStart(t, engine.Config{BridgeOnly: true, MaxRequestBody: 64}, func(s *engine.Server) {
		s.HandleFunc("/ws/plain", brPlain)
		s.HandleEvents("/ws/events", cfEventEcho{})
	})
	mux := http.NewServeMux()
	mux.Handle("/ws/", s.srv)
	base := "http://" + bridgeServe(t, mux)
	client := &http.Client{}
	t.Cleanup(client.CloseIdleConnections)
	post := func(path, body string) *http.Request {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, base+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		return req
	}
	for _, tc := range []struct {
		req    *http.Request
		status int
		field  string
		value  string
		body   string
	}{
		{post("/ws/plain?q=1", "hello"), http.StatusCreated, "X-Route", "plain", "POST /ws/plain?1: hello"},
		{post("/ws/plain", strings.Repeat("x", 65)), http.StatusRequestEntityTooLarge, "", "", "request body too large"},
		{post("/ws/events", ""), http.StatusUpgradeRequired, "Upgrade", "websocket", "websocket endpoint"},
		{post("/ws/nothing", ""), http.StatusNotFound, "", "", "not found"},
	} {
		status, value, body := brDo(t, client, tc.req, tc.field)
		if status != tc.status || value != tc.value || body != tc.body {
			t.Errorf("%s %s: %d %s=%q %q, want %d %q %q", tc.req.Method, tc.req.URL, status, tc.field, value, body, tc.status, tc.value, tc.body)
		}
	}
	// And a handshake on the same route still upgrades.
	c := icDial(t, "ws://"+strings.TrimPrefix(base, "http://")+"/ws/plain")
	if err := c.Send(wsclient.Text, []byte("up")); err != nil {
		t.Fatal(err)
	}
	if _, p, err := icReceive(t, c); err != nil || string(p) != "up" {
		t.Fatalf("echo: %q %v", p, err)
	}
}

// TestBridgeTLS: over TLS nothing can be handed to a loop: a handshake is
// answered 501 with the reason, on both APIs, and a blocking handler's
// Upgrade returns ErrBridgeTLS; plain requests are still served.
func TestBridgeTLS(t *testing.T) {
	upgradeErr := make(chan error, 1)
	s := icStart(t, engine.Config{BridgeOnly: true}, func(s *engine.Server) {
		s.HandleFunc("/plain", func(ctx *upgrade.Context) {
			if up := ctx.Upgrader(); up != nil {
				_, err := up.Upgrade()
				upgradeErr <- err
				return
			}
			_, _ = ctx.WriteString("plain over TLS")
		})
		s.HandleEvents("/events", cfEventEcho{})
	})
	ts := httptest.NewTLSServer(s.srv)
	t.Cleanup(ts.Close)
	client := ts.Client()
	for _, path := range []string{"/plain", "/events"} {
		status, _, body := brDo(t, client, brHandshake(t, ts.URL+path), "")
		if status != http.StatusNotImplemented || body != engine.ErrBridgeTLS.Reason {
			t.Errorf("%s: %d %q, want 501 %q", path, status, body, engine.ErrBridgeTLS.Reason)
		}
	}
	if err := icRecv(t, upgradeErr, icTimeout, "Upgrade's error"); !errors.Is(err, engine.ErrBridgeTLS) {
		t.Errorf("Upgrade() = %v, want ErrBridgeTLS", err)
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, ts.URL+"/plain", nil)
	if status, _, body := brDo(t, client, req, ""); status != http.StatusOK || body != "plain over TLS" {
		t.Errorf("plain GET: %d %q", status, body)
	}
}

// brDecider is an event echo that decides its handshakes: it refuses
// those without a name in the query, and answers the others with a
// header field and the name as the connection's data.
type brDecider struct{ cfEventEcho }

func (brDecider) OnHandshake(h *engine.Handshake) error {
	name := h.Request().RawQuery
	if name == "" || h.RemoteAddr() == nil {
		return &upgrade.StatusError{Status: http.StatusForbidden, Reason: "who are you?"}
	}
	h.SetHeader("X-Hello", name)
	h.SetUserData(name)
	return nil
}

func (brDecider) OnOpen(c *engine.Conn) {
	_ = c.SendText("hello " + c.UserData().(string) + " from " + c.Request().Path)
}

// TestBridgeHandshakeHandler: a HandshakeHandler decides bridged
// handshakes as direct ones: its refusal reaches the client through
// net/http, its header field the 101, its data OnOpen.
func TestBridgeHandshakeHandler(t *testing.T) {
	s := icStart(t, engine.Config{BridgeOnly: true}, func(s *engine.Server) {
		s.HandleEvents("/hello", brDecider{})
	})
	url := "ws://" + bridgeServe(t, s.srv) + "/hello"
	ctx, cancel := context.WithTimeout(t.Context(), icTimeout)
	defer cancel()
	if _, resp, err := wsclient.Dial(ctx, url, nil); resp == nil || resp.StatusCode != http.StatusForbidden || string(resp.Body) != "who are you?" {
		t.Fatalf("without a name: %v %+v", err, resp)
	}
	c, resp := icDialWith(t, url+"?ann", nil)
	if resp.Header.Get("X-Hello") != "ann" {
		t.Errorf("101 header %v", resp.Header)
	}
	if typ, p, err := icReceive(t, c); err != nil || typ != wsclient.Text || string(p) != "hello ann from /hello" {
		t.Fatalf("OnOpen's message: %v %q %v", typ, p, err)
	}
}

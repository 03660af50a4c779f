package engine_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/volley-ws/volley/conn"
	"github.com/volley-ws/volley/engine"
	"github.com/volley-ws/volley/internal/wsclient"
	"github.com/volley-ws/volley/upgrade"
)

// hkHandler is an event route that decides its handshakes: a token is
// required (401 with WWW-Authenticate without one), a client that says so
// is told to come back later (429 with Retry-After), another error is a
// 403, "?proto=" picks the subprotocol, the 101 gets a session header, and
// the connection carries the token as its user data.
type hkHandler struct {
	mu     sync.Mutex
	opened []string // the user data OnOpen saw
	echoed []string // the user data OnMessage saw
	remote net.Addr
}

// hkSession is the user data of an accepted connection.
type hkSession struct{ token string }

func (h *hkHandler) OnHandshake(hs *engine.Handshake) error {
	r := hs.Request()
	h.mu.Lock()
	h.remote = hs.RemoteAddr()
	h.mu.Unlock()
	switch {
	case r.Header.Get("X-Panic") != "":
		panic("handshake hook panics")
	case r.Header.Get("X-Busy") != "":
		return &upgrade.StatusError{Status: http.StatusTooManyRequests, Reason: "slow down",
			Header: []upgrade.HeaderField{{Name: "Retry-After", Value: "7"}}}
	case r.Header.Get("X-Other") != "":
		return errors.New("not a status error")
	}
	token := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	if token == "" {
		return &upgrade.StatusError{Status: http.StatusUnauthorized, Reason: "token required",
			Header: []upgrade.HeaderField{{Name: "WWW-Authenticate", Value: `Bearer realm="volley"`}}}
	}
	if p := hkQuery(r.RawQuery, "proto"); p != "" {
		if err := hs.SetProtocol(p); err != nil {
			return &upgrade.StatusError{Status: http.StatusBadRequest, Reason: err.Error()}
		}
	}
	if got := hs.Protocols(); len(got) > 0 && hs.Protocol() == "" {
		return &upgrade.StatusError{Status: http.StatusBadRequest, Reason: "no subprotocol selected"}
	}
	hs.SetHeader("X-Session", "s-"+token)
	hs.SetHeader("Sec-WebSocket-Accept", "forged") // the server's: ignored
	hs.SetUserData(&hkSession{token: token})
	return nil
}

func hkQuery(raw, key string) string {
	for _, kv := range strings.Split(raw, "&") {
		if k, v, ok := strings.Cut(kv, "="); ok && k == key {
			return v
		}
	}
	return ""
}

func (h *hkHandler) OnOpen(c *engine.Conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if s, ok := c.UserData().(*hkSession); ok {
		h.opened = append(h.opened, s.token)
	}
}

func (h *hkHandler) OnMessage(c *engine.Conn, t conn.MessageType, p []byte) {
	s, _ := c.UserData().(*hkSession)
	h.mu.Lock()
	if s != nil {
		h.echoed = append(h.echoed, s.token)
	}
	h.mu.Unlock()
	_ = c.SendText(c.Subprotocol() + ":" + string(p))
}

func (h *hkHandler) OnClose(*engine.Conn, error) {}

// hkStart serves h on /hook with the subprotocols v1 and v2.
func hkStart(t *testing.T, h *hkHandler) string {
	t.Helper()
	srv := engine.New(engine.Config{Addr: "127.0.0.1:0", Upgrade: upgrade.Options{Subprotocols: []string{"v1", "v2"}}})
	srv.HandleEvents("/hook", h)
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	return "ws://" + srv.Addr().String() + "/hook"
}

// TestHandshakeHookRefuses: the hook's errors become the answer, with
// their status, headers and body, and the TCP connection ends.
func TestHandshakeHookRefuses(t *testing.T) {
	url := hkStart(t, &hkHandler{})
	for _, tc := range []struct {
		name   string
		header http.Header
		status int
		field  string // a header field the answer must carry
		value  string
		body   string
	}{
		{"no token", nil, 401, "WWW-Authenticate", `Bearer realm="volley"`, "token required"},
		{"busy", http.Header{"X-Busy": {"1"}}, 429, "Retry-After", "7", "slow down"},
		{"other error", http.Header{"X-Other": {"1"}}, 403, "", "", "forbidden"},
		{"panic", http.Header{"X-Panic": {"1"}}, 500, "", "", "internal server error"},
		{"unoffered protocol", http.Header{"Authorization": {"Bearer t"}}, 400, "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, o := url, &wsclient.Options{Header: tc.header}
			if tc.name == "unoffered protocol" {
				u += "?proto=v2"
				o.Subprotocols = []string{"v1"}
			}
			c, resp, err := wsclient.Dial(t.Context(), u, o)
			if err == nil {
				c.CloseNow()
				t.Fatal("the handshake was accepted")
			}
			if resp == nil || resp.StatusCode != tc.status {
				t.Fatalf("answer %+v (%v), want status %d", resp, err, tc.status)
			}
			if tc.field != "" && resp.Header.Get(tc.field) != tc.value {
				t.Errorf("%s: %q, want %q", tc.field, resp.Header.Get(tc.field), tc.value)
			}
			if tc.body != "" && string(resp.Body) != tc.body {
				t.Errorf("body %q, want %q", resp.Body, tc.body)
			}
		})
	}
	// The connection ends after the refusal.
	nc, err := net.Dial("tcp", strings.TrimPrefix(strings.TrimSuffix(url, "/hook"), "ws://"))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(nc, "GET /hook HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := io.ReadAll(nc)
	if err != nil || !strings.HasPrefix(string(resp), "HTTP/1.1 401 ") || !strings.Contains(string(resp), "\r\nConnection: close\r\n") {
		t.Fatalf("refusal %q, %v: want 401 with Connection: close, then the end of the connection", resp, err)
	}
}

// TestHandshakeHookAccepts: an accepted handshake carries the hook's
// subprotocol and header; OnOpen and OnMessage see the user data the hook
// attached.
func TestHandshakeHookAccepts(t *testing.T) {
	h := &hkHandler{}
	url := hkStart(t, h)
	for _, tc := range []struct {
		query, offer, want string
	}{
		{"", "v2, v1", "v1"},          // the server's preference order
		{"?proto=v2", "v1, v2", "v2"}, // the hook's choice
		{"?proto=", "", ""},
	} {
		var protos []string
		if tc.offer != "" {
			protos = strings.Split(tc.offer, ", ")
		}
		c, resp, err := wsclient.Dial(t.Context(), url+tc.query, &wsclient.Options{
			Header: http.Header{"Authorization": {"Bearer tok" + tc.want}}, Subprotocols: protos})
		if err != nil {
			t.Fatalf("%s: Dial: %v (%+v)", tc.query, err, resp)
		}
		if c.Subprotocol() != tc.want || resp.Header.Get("X-Session") != "s-tok"+tc.want {
			t.Errorf("%s: subprotocol %q, X-Session %q", tc.query, c.Subprotocol(), resp.Header.Get("X-Session"))
		}
		if err := c.Send(wsclient.Text, []byte("hi")); err != nil {
			t.Fatal(err)
		}
		_, msg, err := c.Receive(t.Context())
		if err != nil || string(msg) != tc.want+":hi" {
			t.Errorf("%s: echo %q %v, want %q", tc.query, msg, err, tc.want+":hi")
		}
		if err := c.Close(1000, ""); err != nil {
			t.Errorf("Close: %v", err)
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if strings.Join(h.opened, ",") != "tokv1,tokv2,tok" || strings.Join(h.echoed, ",") != "tokv1,tokv2,tok" {
		t.Errorf("user data seen by OnOpen %q and OnMessage %q", h.opened, h.echoed)
	}
	if h.remote == nil || !strings.HasPrefix(h.remote.String(), "127.0.0.1:") {
		t.Errorf("RemoteAddr during the hook: %v", h.remote)
	}
}

// TestHandshakeHookSetProtocol: SetProtocol takes only a subprotocol the
// client offered and the server lists.
func TestHandshakeHookSetProtocol(t *testing.T) {
	srv := engine.New(engine.Config{Addr: "127.0.0.1:0", Upgrade: upgrade.Options{Subprotocols: []string{"v1", "v2"}}})
	got := make(chan []error, 1)
	srv.HandleEvents("/p", hkProtocolProbe(func(hs *engine.Handshake) {
		got <- []error{hs.SetProtocol("v3"), hs.SetProtocol("v2"), hs.SetProtocol("v1"), hs.SetProtocol("")}
	}))
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown(t.Context())
	c, _, err := wsclient.Dial(t.Context(), "ws://"+srv.Addr().String()+"/p", &wsclient.Options{Subprotocols: []string{"v1", "v3"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	errs := <-got
	want := []error{engine.ErrProtocolNotOffered, engine.ErrProtocolNotOffered, nil, nil}
	for i := range want {
		if !errors.Is(errs[i], want[i]) {
			t.Errorf("SetProtocol #%d: %v, want %v", i, errs[i], want[i])
		}
	}
	if c.Subprotocol() != "" {
		t.Errorf("subprotocol %q after SetProtocol(\"\")", c.Subprotocol())
	}
}

// hkProtocolProbe is an event route whose hook runs fn and accepts.
type hkProtocolProbe func(*engine.Handshake)

func (f hkProtocolProbe) OnHandshake(hs *engine.Handshake) error {
	f(hs)
	return nil
}
func (hkProtocolProbe) OnOpen(*engine.Conn)                              {}
func (hkProtocolProbe) OnMessage(*engine.Conn, conn.MessageType, []byte) {}
func (hkProtocolProbe) OnClose(*engine.Conn, error)                      {}

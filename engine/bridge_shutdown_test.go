package engine_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/volley-ws/volley/conn"
	"github.com/volley-ws/volley/engine"
	"github.com/volley-ws/volley/internal/wsclient"
	"github.com/volley-ws/volley/upgrade"
)

// TestBridgeShutdown: a server with its own listener and the bridge:
// Shutdown closes direct and bridged WebSockets alike with 1001, a
// request that reaches ServeHTTP once it began is answered 503, and both
// servers stop (the package's leak check finds nothing of either).
func TestBridgeShutdown(t *testing.T) {
	release := make(chan struct{})
	arrived := make(chan struct{})
	hold := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Query().Has("late") {
				close(arrived)
				<-release
			}
			next.ServeHTTP(w, r)
		})
	}
	a := bridgeStart(t, engine.Config{}, hold)
	clients := []*wsclient.Conn{
		icDial(t, a.icServer.url(brEchoPath)),
		icDial(t, a.url(brEchoPath)),
		icDial(t, a.url(brEventsPath)),
	}
	for _, c := range clients { // all three are open
		if err := c.Send(wsclient.Text, []byte("ping")); err != nil {
			t.Fatal(err)
		}
		if _, _, err := icReceive(t, c); err != nil {
			t.Fatal(err)
		}
	}
	late := make(chan *wsclient.Response, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*icTimeout)
		defer cancel()
		_, resp, _ := wsclient.Dial(ctx, a.url(brEventsPath)+"?late", nil)
		late <- resp
	}()
	icRecv(t, arrived, icTimeout, "the late request")

	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), icTimeout)
		defer cancel()
		done <- a.srv.Shutdown(ctx)
	}()
	for i, c := range clients {
		if _, _, err := icReceive(t, c); !icIsClose(err, int(conn.StatusGoingAway)) {
			t.Errorf("client %d: %v, want close 1001", i, err)
		}
	}
	close(release)
	if resp := icRecv(t, late, 2*icTimeout, "the late response"); resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("a handshake during Shutdown: %+v, want 503", resp)
	}
	if err := icRecv(t, done, 2*icTimeout, "Shutdown"); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
}

// TestBridgeNotRunning: before Start and after Shutdown ServeHTTP answers
// 503; a ResponseWriter that cannot hijack gets ErrBridgeConn's 501.
func TestBridgeNotRunning(t *testing.T) {
	srv := engine.New(engine.Config{BridgeOnly: true, EventLoops: 1})
	srv.HandleEvents("/events", cfEventEcho{})
	serve := func() *httptest.ResponseRecorder {
		req := brHandshake(t, "http://example.com/events")
		req.RequestURI = "/events"
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		return w
	}
	if w := serve(); w.Code != http.StatusServiceUnavailable {
		t.Errorf("before Start: %d %q", w.Code, w.Body)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	if w := serve(); w.Code != http.StatusNotImplemented || w.Body.String() != engine.ErrBridgeConn.Reason {
		t.Errorf("a recorder: %d %q, want 501", w.Code, w.Body)
	}
	ctx, cancel := context.WithTimeout(t.Context(), icTimeout)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if w := serve(); w.Code != http.StatusServiceUnavailable {
		t.Errorf("after Shutdown: %d %q", w.Code, w.Body)
	}
}

// brSubscriber subscribes to "news" in OnOpen.
type brSubscriber struct{ cfEventEcho }

func (brSubscriber) OnOpen(c *engine.Conn) { _ = c.Subscribe("news") }

// TestBridgeTopics: bridged subscribers of both APIs get a topic's
// publishes like a direct one.
func TestBridgeTopics(t *testing.T) {
	s := icStart(t, engine.Config{}, func(s *engine.Server) {
		s.HandleEvents("/events", brSubscriber{})
		s.HandleFunc("/blocking", func(ctx *upgrade.Context) {
			ws, err := ctx.Upgrader().Upgrade()
			if err != nil {
				return
			}
			if err := ws.Subscribe("news"); err != nil {
				return
			}
			for {
				if _, err := ws.Receive(); err != nil {
					return
				}
			}
		})
	})
	app := "ws://" + bridgeServe(t, s.srv)
	clients := []*wsclient.Conn{
		icDial(t, s.url("/events")),
		icDial(t, app+"/events"),
		icDial(t, app+"/blocking"),
	}
	for deadline := time.Now().Add(icTimeout); s.srv.Subscribers("news") < len(clients); {
		if time.Now().After(deadline) {
			t.Fatalf("%d subscribers, want %d", s.srv.Subscribers("news"), len(clients))
		}
		time.Sleep(time.Millisecond)
	}
	if err := s.srv.Publish("news", conn.Text, []byte("extra")); err != nil {
		t.Fatal(err)
	}
	for i, c := range clients {
		if _, p, err := icReceive(t, c); err != nil || string(p) != "extra" {
			t.Errorf("client %d: %q %v", i, p, err)
		}
	}
}

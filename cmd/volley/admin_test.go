package main

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/volley-ws/volley/internal/wsclient"
)

// TestAdminEndpoints: /healthz and /readyz answer 200 on a running server,
// /readyz 503 once not ready, and pprof is served on the admin mux.
func TestAdminEndpoints(t *testing.T) {
	srv := startServer(t)
	adm, err := startAdmin("127.0.0.1:0", srv)
	if err != nil {
		t.Fatal(err)
	}
	defer adm.stop()
	base := "http://" + adm.Addr().String()
	if code, _ := get(t, base+"/readyz"); code != 503 {
		t.Errorf("/readyz before setReady: %d, want 503", code)
	}
	adm.setReady(true)
	for _, c := range []struct {
		path, body string
	}{
		{"/healthz", "ok"},
		{"/readyz", "ready"},
		{"/debug/pprof/", "goroutine"},
		{"/debug/pprof/goroutine?debug=1", "goroutine profile"},
		{"/debug/pprof/cmdline", ""},
		{"/metrics", "volley_connections_open"},
	} {
		if code, body := get(t, base+c.path); code != 200 || !strings.Contains(body, c.body) {
			t.Errorf("%s: %d %.80q, want 200 with %q", c.path, code, body, c.body)
		}
	}
	adm.setReady(false)
	if code, _ := get(t, base+"/readyz"); code != 503 {
		t.Errorf("/readyz after setReady(false): %d, want 503", code)
	}
	if code, _ := get(t, base+"/healthz"); code != 200 {
		t.Errorf("/healthz while not ready: %d, want 200", code)
	}
	if o, _ := parseFlags(nil); o.admin != "" {
		t.Errorf("-admin defaults to %q, want off", o.admin)
	}
	if a, err := startAdmin("", srv); a != nil || err != nil {
		t.Errorf("startAdmin without an address: %v %v, want nothing", a, err)
	}
	if _, err := startAdmin("127.0.0.1:-1", srv); err == nil || !strings.Contains(err.Error(), "-admin") {
		t.Errorf("startAdmin on a bad address: %v, want an error naming -admin", err)
	}
}

// TestAdminMetrics scrapes /metrics after real traffic (an echo and a
// chat room) and checks what the engine counts whatever else it does:
// connections open, topics, subscriptions, publishes and deliveries; the
// Go and process collectors are there, and promtool finds the scrape
// clean.
func TestAdminMetrics(t *testing.T) {
	srv, base := startAdminServer(t)
	expectMetrics(t, base, map[string]float64{"volley_connections_open": 0, "volley_topics": 0})

	ec := dialWS(t, srv, "/echo")
	roundTrip(t, ec, wsclient.Text, "hello")
	a, b := dialWS(t, srv, "/chat?room=ops"), dialWS(t, srv, "/chat?room=ops")
	// Once b's message reaches a, both are subscribed.
	waitJoined(t, a, b)
	for i := range 3 {
		roundTrip(t, a, wsclient.Text, "message "+strconv.Itoa(i))
		ctx, cancel := context.WithTimeout(t.Context(), wait)
		if _, p, err := b.Receive(ctx); err != nil || string(p) != "message "+strconv.Itoa(i) {
			t.Fatalf("b got %q %v", p, err)
		}
		cancel()
	}
	scrape := expectMetrics(t, base, map[string]float64{
		"volley_connections_open": 3,
		"volley_topics":           1,
		"volley_subscriptions":    2,
	})
	for _, name := range []string{"go_goroutines", "process_open_fds", "volley_publishes_total", "volley_deliveries_total"} {
		if _, ok := series(scrape, name); !ok {
			t.Errorf("no %s in the scrape", name)
		}
	}
	checkMetrics(t, scrape)

	for _, c := range []*wsclient.Conn{ec, a, b} {
		closeConn(t, c)
	}
	expectMetrics(t, base, map[string]float64{"volley_connections_open": 0, "volley_topics": 0, "volley_subscriptions": 0})
}

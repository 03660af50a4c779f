package main

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/volley-ws/volley/internal/wsclient"
)

// TestStatsFeed: /stats sends a report as soon as it opens, then one a
// second, each from a fresh snapshot (a member joining a room shows in the
// next), and answers the client's close.
func TestStatsFeed(t *testing.T) {
	for _, api := range []string{"blocking", "event"} {
		t.Run(api, func(t *testing.T) {
			srv := startServer(t, "-api", api)
			feed := dialWS(t, srv, "/stats")
			next := func() statsReport {
				t.Helper()
				ctx, cancel := context.WithTimeout(t.Context(), wait)
				defer cancel()
				typ, p, err := feed.Receive(ctx)
				var r statsReport
				if err != nil || typ != wsclient.Text || json.Unmarshal(p, &r) != nil {
					t.Fatalf("/stats sent %v %q, %v", typ, p, err)
				}
				return r
			}
			if r := next(); r.Connections != 1 || r.Topics != 0 || r.Time == 0 {
				t.Errorf("first report: %+v, want 1 connection (the feed's own) and no topic", r)
			}
			a := dialWS(t, srv, "/chat?room=lobby")
			roundTrip(t, a, wsclient.Text, "here") // back once subscribed
			if r := next(); r.Connections != 2 || r.Topics != 1 || r.Subscriptions != 1 {
				t.Errorf("after a member joined: %+v, want 2 connections, 1 topic, 1 subscription", r)
			}
			closeConn(t, feed)
		})
	}
}

package prom

import (
	"testing"

	"github.com/volley-ws/volley/internal/wsclient"
)

// TestScrape scrapes a server over HTTP after real traffic and checks the
// numbers the engine counts whatever else it does: connections open,
// topics, subscriptions, publishes, deliveries and the bytes held for a
// handler that does not read.
func TestScrape(t *testing.T) {
	e := startExporter(t)
	e.expect(t, want{name: "volley_connections_open"}, want{name: "volley_topics"}, want{name: "volley_buffered_bytes"})

	var subs []*wsclient.Conn
	for range 3 {
		c := e.dial(t, "/events")
		echo(t, c, wsclient.Text, 10)
		subs = append(subs, c)
	}
	echoes := []*wsclient.Conn{e.dial(t, "/echo"), e.dial(t, "/echo")}
	for _, c := range echoes {
		echo(t, c, wsclient.Binary, 100)
	}
	for range 4 {
		if err := e.Publish("news", 1, []byte("extra, extra")); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range subs {
		for range 4 {
			if _, p, err := c.Receive(t.Context()); err != nil || string(p) != "extra, extra" {
				t.Fatalf("news: %q %v", p, err)
			}
		}
	}
	e.expect(t,
		want{name: "volley_connections_open", value: 5},
		want{name: "volley_topics", value: 1},
		want{name: "volley_subscriptions", value: 3},
		want{name: "volley_publishes_total", value: 4},
		want{name: "volley_deliveries_total", value: 12},
		want{name: "volley_deliveries_skipped_total", value: 0},
		want{name: "volley_slow_subscribers_closed_total", value: 0},
	)

	// Three messages for a handler that reads nothing yet: the server holds
	// them, and lets them go once it has read and echoed them.
	hold := e.dial(t, "/hold")
	for range 3 {
		if err := hold.Send(wsclient.Binary, make([]byte, 1000)); err != nil {
			t.Fatal(err)
		}
	}
	e.expect(t, want{name: "volley_buffered_bytes", value: 3000, atLeast: true},
		want{name: "volley_connections_open", value: 6})
	close(e.release)
	for range 3 {
		if _, p, err := hold.Receive(t.Context()); err != nil || len(p) != 1000 {
			t.Fatalf("echo of a held message: %d bytes, %v", len(p), err)
		}
	}

	for _, c := range append(append(subs, echoes...), hold) {
		closeWith(t, c, 1000)
	}
	e.expect(t,
		want{name: "volley_connections_open", value: 0},
		want{name: "volley_topics", value: 0},
		want{name: "volley_subscriptions", value: 0},
		want{name: "volley_buffered_bytes", value: 0},
	)
}

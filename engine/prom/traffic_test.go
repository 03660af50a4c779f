package prom

import (
	"context"
	"errors"
	"testing"

	"github.com/volley-ws/volley/internal/servertest"
	"github.com/volley-ws/volley/internal/wsclient"
)

// TestScrapeCountsTraffic scrapes a server after real traffic and checks
// every count against what the clients did: connections accepted,
// handshakes answered 101 per route and refused per status, messages and
// control frames by type and payload bytes each way, and close codes by
// side.
func TestScrapeCountsTraffic(t *testing.T) {
	e := startExporter(t)

	// A handshake for a path nothing serves: 404.
	ctx, cancel := context.WithTimeout(t.Context(), servertest.Timeout)
	defer cancel()
	if _, resp, err := wsclient.Dial(ctx, "ws://"+e.Addr+"/nope", nil); !errors.Is(err, wsclient.ErrRefused) || resp.StatusCode != 404 {
		t.Fatalf("dialing /nope: %v, want a 404 refusal", err)
	}

	// Three blocking echoes and one event echo, each sent text and binary
	// messages (the event one a 70000-byte one), a ping and a pong.
	var echoes []*wsclient.Conn
	for range 3 {
		c := e.dial(t, "/echo")
		echo(t, c, wsclient.Text, 10)
		echo(t, c, wsclient.Text, 200)
		echo(t, c, wsclient.Binary, 1000)
		echoes = append(echoes, c)
	}
	ev := e.dial(t, "/events")
	echo(t, ev, wsclient.Text, 5)
	echo(t, ev, wsclient.Binary, 70000)
	if err := echoes[0].SendPing([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	if err := echoes[1].SendPong([]byte("pong")); err != nil {
		t.Fatal(err)
	}
	echo(t, echoes[0], wsclient.Text, 1) // after the ping's pong
	echo(t, echoes[1], wsclient.Text, 1)
	const text, binary, bytes = 3*2 + 1 + 2, 3*1 + 1, 3*(10+200+1000) + 5 + 70000 + 2
	e.expect(t,
		want{name: "volley_connections_accepted_total", value: 5},
		want{name: "volley_connections_open", value: 4},
		want{name: "volley_websockets_open", labels: []string{"route=/echo", "api=blocking"}, value: 3},
		want{name: "volley_websockets_open", labels: []string{"route=/events", "api=event"}, value: 1},
		want{name: "volley_websockets_open", labels: []string{"route=/hold", "api=blocking"}, value: 0},
		want{name: "volley_upgrades_total", labels: []string{"route=/echo", "api=blocking"}, value: 3},
		want{name: "volley_upgrades_total", labels: []string{"route=/events", "api=event"}, value: 1},
		want{name: "volley_handshakes_refused_total", labels: []string{"status=404"}, value: 1},
		want{name: "volley_messages_received_total", labels: []string{"type=text"}, value: text},
		want{name: "volley_messages_received_total", labels: []string{"type=binary"}, value: binary},
		want{name: "volley_messages_received_total", labels: []string{"type=ping"}, value: 1},
		want{name: "volley_messages_received_total", labels: []string{"type=pong"}, value: 1},
		want{name: "volley_messages_sent_total", labels: []string{"type=text"}, value: text},
		want{name: "volley_messages_sent_total", labels: []string{"type=binary"}, value: binary},
		want{name: "volley_messages_sent_total", labels: []string{"type=pong"}, value: 1},
		want{name: "volley_bytes_received_total", value: bytes},
		want{name: "volley_bytes_sent_total", value: bytes},
	)

	// Closes: 4000 and 1000 to the blocking echo, which answers with the
	// same code, 4001 (counted as 4000) to the event one, and a client
	// that goes without a close frame (1006, nothing sent back).
	closeWith(t, echoes[0], 4000)
	closeWith(t, echoes[1], 1000)
	closeWith(t, ev, 4001)
	echoes[2].CloseNow()
	e.expect(t,
		want{name: "volley_connections_open", value: 0},
		want{name: "volley_websockets_open", labels: []string{"route=/echo", "api=blocking"}, value: 0},
		want{name: "volley_websockets_open", labels: []string{"route=/events", "api=event"}, value: 0},
		want{name: "volley_messages_received_total", labels: []string{"type=close"}, value: 3},
		want{name: "volley_messages_sent_total", labels: []string{"type=close"}, value: 3},
		want{name: "volley_closes_total", labels: []string{"code=4000", "by=client"}, value: 2},
		want{name: "volley_closes_total", labels: []string{"code=1000", "by=client"}, value: 1},
		want{name: "volley_closes_total", labels: []string{"code=1006", "by=client"}, value: 1},
		want{name: "volley_closes_total", labels: []string{"code=4000", "by=server"}, value: 2},
		want{name: "volley_closes_total", labels: []string{"code=1000", "by=server"}, value: 1},
		want{name: "volley_send_queue_full_total", value: 0},
	)
}

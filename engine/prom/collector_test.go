package prom

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/volley-ws/volley/engine"
)

// sample is a snapshot with every field set to a value of its own, so that
// a field reported under the wrong family shows.
func sample() engine.Stats {
	return engine.Stats{
		Connections: 7,
		Accepted:    1001,
		Routes: map[string]engine.RouteStats{
			"/echo":  {Open: 3, Upgraded: 40},
			"/feed":  {Events: true, Open: 2, Upgraded: 12},
			"/quiet": {},
		},
		Refused:        map[int]uint64{404: 5, 503: 2},
		Received:       engine.MessageStats{Text: 100, Binary: 20, Ping: 3, Pong: 4, Close: 30, Bytes: 123456},
		Sent:           engine.MessageStats{Text: 150, Binary: 21, Ping: 6, Pong: 3, Close: 31, Bytes: 234567},
		ClosesSent:     map[uint16]uint64{1000: 25, 1001: 4, 1009: 2},
		ClosesReceived: map[uint16]uint64{1000: 27, 1006: 3, 4000: 1},
		SendQueueFull:  9,
		Buffered:       65536,
		Topics: engine.TopicStats{Topics: 4, Subscriptions: 11, Publishes: 500, Received: 70,
			Deliveries: 4400, Skipped: 8, SlowClosed: 1},
		Broker: engine.BrokerStats{Out: 500, In: 70, Reconnects: 2, Dropped: 5, Connected: true},
	}
}

// wantCommon is the exposition of sample without the broker's families
// and the memory budget.
const wantCommon = `
# HELP volley_buffered_bytes Bytes all connections hold now between the network and the application (unsent, unread, awaiting Receive).
# TYPE volley_buffered_bytes gauge
volley_buffered_bytes 65536
# HELP volley_bytes_received_total Payload bytes of the text and binary messages received, after inflating compressed ones.
# TYPE volley_bytes_received_total counter
volley_bytes_received_total 123456
# HELP volley_bytes_sent_total Payload bytes of the text and binary messages queued for peers, before compression.
# TYPE volley_bytes_sent_total counter
volley_bytes_sent_total 234567
# HELP volley_closes_total Close frames by status code (3000 stands for 3000-3999, 4000 for 4000-4999, 1005 for none) and by the side that sent them (server or client); by="client" code="1006" counts WebSockets that ended without the client's close frame.
# TYPE volley_closes_total counter
volley_closes_total{by="client",code="1000"} 27
volley_closes_total{by="client",code="1006"} 3
volley_closes_total{by="client",code="4000"} 1
volley_closes_total{by="server",code="1000"} 25
volley_closes_total{by="server",code="1001"} 4
volley_closes_total{by="server",code="1009"} 2
# HELP volley_connections_accepted_total TCP connections the server accepted, from its listener and the net/http bridge.
# TYPE volley_connections_accepted_total counter
volley_connections_accepted_total 1001
# HELP volley_connections_open TCP connections open now: plain HTTP, in a handshake, WebSocket or closing.
# TYPE volley_connections_open gauge
volley_connections_open 7
# HELP volley_deliveries_skipped_total Topic messages skipped for subscribers that did not keep up.
# TYPE volley_deliveries_skipped_total counter
volley_deliveries_skipped_total 8
# HELP volley_deliveries_total Frames queued to subscribers on this node by topic publishes.
# TYPE volley_deliveries_total counter
volley_deliveries_total 4400
# HELP volley_handshakes_refused_total WebSocket handshakes answered with an HTTP error instead of 101, by HTTP status.
# TYPE volley_handshakes_refused_total counter
volley_handshakes_refused_total{status="404"} 5
volley_handshakes_refused_total{status="503"} 2
# HELP volley_messages_received_total WebSocket messages (text, binary) and control frames (ping, pong, close) received, by type; a fragmented message counts once.
# TYPE volley_messages_received_total counter
volley_messages_received_total{type="binary"} 20
volley_messages_received_total{type="close"} 30
volley_messages_received_total{type="ping"} 3
volley_messages_received_total{type="pong"} 4
volley_messages_received_total{type="text"} 100
# HELP volley_messages_sent_total WebSocket messages (text, binary) and control frames (ping, pong, close) queued for peers, topic deliveries included, by type.
# TYPE volley_messages_sent_total counter
volley_messages_sent_total{type="binary"} 21
volley_messages_sent_total{type="close"} 31
volley_messages_sent_total{type="ping"} 6
volley_messages_sent_total{type="pong"} 3
volley_messages_sent_total{type="text"} 150
# HELP volley_publishes_total Messages published on this node (the server's and connections' Publish calls).
# TYPE volley_publishes_total counter
volley_publishes_total 500
# HELP volley_send_queue_full_total Sends refused or made to wait because the connection's unsent bytes would pass the per-connection limit.
# TYPE volley_send_queue_full_total counter
volley_send_queue_full_total 9
# HELP volley_slow_subscribers_closed_total Subscribers closed for not keeping up with their topics.
# TYPE volley_slow_subscribers_closed_total counter
volley_slow_subscribers_closed_total 1
# HELP volley_subscriptions Topic subscriptions on this node now.
# TYPE volley_subscriptions gauge
volley_subscriptions 11
# HELP volley_topics Topics with subscribers on this node now.
# TYPE volley_topics gauge
volley_topics 4
# HELP volley_upgrades_total WebSocket handshakes answered 101 Switching Protocols, by route and API.
# TYPE volley_upgrades_total counter
volley_upgrades_total{api="blocking",route="/echo"} 40
volley_upgrades_total{api="blocking",route="/quiet"} 0
volley_upgrades_total{api="event",route="/feed"} 12
# HELP volley_websockets_open WebSocket connections open now, by route (the path the handler was registered for) and API (blocking or event).
# TYPE volley_websockets_open gauge
volley_websockets_open{api="blocking",route="/echo"} 3
volley_websockets_open{api="blocking",route="/quiet"} 0
volley_websockets_open{api="event",route="/feed"} 2
`

// wantBroker is the broker's families of sample, and the memory budget.
const wantBroker = `
# HELP volley_broker_connected 1 while the broker is connected to the other nodes, 0 while it is not.
# TYPE volley_broker_connected gauge
volley_broker_connected 1
# HELP volley_broker_dropped_total Messages the broker knows it lost: refused for a full backlog or dropped for a slow consumer.
# TYPE volley_broker_dropped_total counter
volley_broker_dropped_total 5
# HELP volley_broker_messages_total Messages the broker handed to other nodes (direction out) and received from them (direction in).
# TYPE volley_broker_messages_total counter
volley_broker_messages_total{direction="in"} 70
volley_broker_messages_total{direction="out"} 500
# HELP volley_broker_reconnects_total Times the broker lost its connection and got it back.
# TYPE volley_broker_reconnects_total counter
volley_broker_reconnects_total 2
# HELP volley_buffered_bytes_limit The server's memory budget: the most bytes all connections may hold together (absent when there is no budget).
# TYPE volley_buffered_bytes_limit gauge
volley_buffered_bytes_limit 1.073741824e+09
`

// TestExposition checks the exact text a scrape of a snapshot gives: every
// field under its family and labels, without and with a broker that counts
// and a memory budget.
func TestExposition(t *testing.T) {
	for _, tc := range []struct {
		name   string
		broker bool
		limit  int64
		want   string
	}{
		{"one node", false, -1, wantCommon},
		{"broker and budget", true, 1 << 30, wantCommon + wantBroker},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			c := newCollector(func() engine.Stats { calls++; return sample() }, tc.broker, tc.limit)
			if err := testutil.CollectAndCompare(c, strings.NewReader(tc.want)); err != nil {
				t.Error(err)
			}
			if calls != 1 {
				t.Errorf("one scrape read Stats %d times, want once", calls)
			}
		})
	}
}

// TestLint runs client_golang's linter (promlint: names, units, HELP,
// counters' _total) over every family.
func TestLint(t *testing.T) {
	c := newCollector(sample, true, 1<<30)
	problems, err := testutil.CollectAndLint(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("%s: %s", p.Metric, p.Text)
	}
}

// TestZeroStats: a server that has served nothing yet is scraped without
// error, every counter at zero.
func TestZeroStats(t *testing.T) {
	c := newCollector(func() engine.Stats { return engine.Stats{} }, false, 0)
	if n := testutil.CollectAndCount(c); n != 22 {
		t.Errorf("%d metrics from a zero snapshot, want 22 (the 12 families without labels and the 10 message series)", n)
	}
	if n := testutil.CollectAndCount(c, "volley_messages_sent_total"); n != 5 {
		t.Errorf("%d volley_messages_sent_total series, want one per type", n)
	}
}

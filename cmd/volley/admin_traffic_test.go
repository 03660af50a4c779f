package main

import (
	"testing"

	"github.com/volley-ws/volley/internal/wsclient"
)

// TestAdminMetricsCountTraffic scrapes /metrics after an echo and a chat
// room's traffic and checks every count against what the clients did:
// connections accepted, upgrades per route, messages and payload bytes
// each way (the room's deliveries included), and the closes.
func TestAdminMetricsCountTraffic(t *testing.T) {
	srv, base := startAdminServer(t)
	ec := dialWS(t, srv, "/echo")
	roundTrip(t, ec, wsclient.Text, "hello")   // 5 bytes
	roundTrip(t, ec, wsclient.Text, "goodbye") // 7 bytes
	roundTrip(t, ec, wsclient.Binary, string(make([]byte, 100)))
	a, b := dialWS(t, srv, "/chat?room=ops"), dialWS(t, srv, "/chat?room=ops")
	waitJoined(t, a, b) // "joined": 6 bytes, in once, out twice
	for _, c := range []*wsclient.Conn{ec, a, b} {
		closeConn(t, c)
	}
	const in, out = 5 + 7 + 100 + 6, 5 + 7 + 100 + 2*6
	scrape := expectMetrics(t, base, map[string]float64{
		`volley_connections_accepted_total`:                    3,
		`volley_connections_open`:                              0,
		`volley_upgrades_total{api="blocking",route="/echo"}`:  1,
		`volley_upgrades_total{api="blocking",route="/chat"}`:  2,
		`volley_websockets_open{api="blocking",route="/chat"}`: 0,
		`volley_messages_received_total{type="text"}`:          3,
		`volley_messages_received_total{type="binary"}`:        1,
		`volley_messages_sent_total{type="text"}`:              4,
		`volley_messages_sent_total{type="binary"}`:            1,
		`volley_messages_received_total{type="close"}`:         3,
		`volley_messages_sent_total{type="close"}`:             3,
		`volley_bytes_received_total`:                          in,
		`volley_bytes_sent_total`:                              out,
		`volley_closes_total{by="client",code="1000"}`:         3,
		`volley_closes_total{by="server",code="1000"}`:         3,
		`volley_publishes_total`:                               1,
		`volley_deliveries_total`:                              2,
	})
	checkMetrics(t, scrape)
}

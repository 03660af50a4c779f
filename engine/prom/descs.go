package prom

import "github.com/prometheus/client_golang/prometheus"

// descs are the descriptions of a Collector's families, built once by
// NewCollector. Their HELP texts say what each one counts; the
// engine.Stats field each comes from is named in collect.go.
type descs struct {
	connectionsOpen, connectionsAccepted          *prometheus.Desc
	websocketsOpen, upgrades                      *prometheus.Desc
	refused                                       *prometheus.Desc
	messagesReceived, messagesSent                *prometheus.Desc
	bytesReceived, bytesSent                      *prometheus.Desc
	closes                                        *prometheus.Desc
	sendQueueFull, buffered, bufferedLimit        *prometheus.Desc
	topics, subscriptions                         *prometheus.Desc
	publishes, deliveries, skipped, slowClosed    *prometheus.Desc
	brokerMessages, brokerReconnects, brokerDrops *prometheus.Desc
	brokerConnected                               *prometheus.Desc
}

// newDescs describes every family.
func newDescs() descs {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("volley_"+name, help, labels, nil)
	}
	return descs{
		connectionsOpen:     d("connections_open", "TCP connections open now: plain HTTP, in a handshake, WebSocket or closing."),
		connectionsAccepted: d("connections_accepted_total", "TCP connections the server accepted, from its listener and the net/http bridge."),
		websocketsOpen:      d("websockets_open", "WebSocket connections open now, by route (the path the handler was registered for) and API (blocking or event).", "route", "api"),
		upgrades:            d("upgrades_total", "WebSocket handshakes answered 101 Switching Protocols, by route and API.", "route", "api"),
		refused:             d("handshakes_refused_total", "WebSocket handshakes answered with an HTTP error instead of 101, by HTTP status.", "status"),
		messagesReceived:    d("messages_received_total", "WebSocket messages (text, binary) and control frames (ping, pong, close) received, by type; a fragmented message counts once.", "type"),
		messagesSent:        d("messages_sent_total", "WebSocket messages (text, binary) and control frames (ping, pong, close) queued for peers, topic deliveries included, by type.", "type"),
		bytesReceived:       d("bytes_received_total", "Payload bytes of the text and binary messages received, after inflating compressed ones."),
		bytesSent:           d("bytes_sent_total", "Payload bytes of the text and binary messages queued for peers, before compression."),
		closes:              d("closes_total", "Close frames by status code (3000 stands for 3000-3999, 4000 for 4000-4999, 1005 for none) and by the side that sent them (server or client); by=\"client\" code=\"1006\" counts WebSockets that ended without the client's close frame.", "code", "by"),
		sendQueueFull:       d("send_queue_full_total", "Sends refused or made to wait because the connection's unsent bytes would pass the per-connection limit."),
		buffered:            d("buffered_bytes", "Bytes all connections hold now between the network and the application (unsent, unread, awaiting Receive)."),
		bufferedLimit:       d("buffered_bytes_limit", "The server's memory budget: the most bytes all connections may hold together (absent when there is no budget)."),
		topics:              d("topics", "Topics with subscribers on this node now."),
		subscriptions:       d("subscriptions", "Topic subscriptions on this node now."),
		publishes:           d("publishes_total", "Messages published on this node (the server's and connections' Publish calls)."),
		deliveries:          d("deliveries_total", "Frames queued to subscribers on this node by topic publishes."),
		skipped:             d("deliveries_skipped_total", "Topic messages skipped for subscribers that did not keep up."),
		slowClosed:          d("slow_subscribers_closed_total", "Subscribers closed for not keeping up with their topics."),
		brokerMessages:      d("broker_messages_total", "Messages the broker handed to other nodes (direction out) and received from them (direction in).", "direction"),
		brokerReconnects:    d("broker_reconnects_total", "Times the broker lost its connection and got it back."),
		brokerDrops:         d("broker_dropped_total", "Messages the broker knows it lost: refused for a full backlog or dropped for a slow consumer."),
		brokerConnected:     d("broker_connected", "1 while the broker is connected to the other nodes, 0 while it is not."),
	}
}

// each calls f with every description.
func (d *descs) each(f func(*prometheus.Desc)) {
	for _, x := range []*prometheus.Desc{
		d.connectionsOpen, d.connectionsAccepted, d.websocketsOpen, d.upgrades, d.refused,
		d.messagesReceived, d.messagesSent, d.bytesReceived, d.bytesSent, d.closes,
		d.sendQueueFull, d.buffered, d.bufferedLimit, d.topics, d.subscriptions,
		d.publishes, d.deliveries, d.skipped, d.slowClosed,
		d.brokerMessages, d.brokerReconnects, d.brokerDrops, d.brokerConnected,
	} {
		f(x)
	}
}

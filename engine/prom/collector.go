package prom

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/volley-ws/volley/engine"
)

// Collector is a prometheus.Collector of a volley server's counters. Each
// Collect takes one engine.Stats snapshot and reports every family from
// it, as constant metrics: nothing is counted twice and nothing is kept
// between scrapes.
//
// Describe and Collect may be called from any goroutine, at the same time
// (a registry gathers in parallel); the Collector holds no mutable state.
type Collector struct {
	stats func() engine.Stats
	// broker reports whether the server's broker counts its traffic (an
	// engine.StatsBroker): the broker families are reported only then.
	broker bool
	// limit is the server's memory budget, 0 for none.
	limit int64
	d     descs
}

// NewCollector returns a Collector of srv's counters. Register it on a
// registry of your own; it reads srv.Stats once per scrape. Any goroutine,
// before or after srv starts.
//
// Families (counters end in _total; the others are gauges):
//
//	volley_connections_open                  TCP connections open now
//	volley_connections_accepted_total        TCP connections accepted
//	volley_websockets_open{route,api}        WebSockets open now, per route; api is blocking or event
//	volley_upgrades_total{route,api}         handshakes answered 101
//	volley_handshakes_refused_total{status}  handshakes answered with an HTTP error
//	volley_messages_received_total{type}     messages and control frames received; type is text, binary, ping, pong or close
//	volley_messages_sent_total{type}         messages and control frames queued for peers
//	volley_bytes_received_total              payload bytes of text and binary messages received
//	volley_bytes_sent_total                  payload bytes of text and binary messages sent
//	volley_closes_total{code,by}             close frames by code; by is server (sent) or client (received)
//	volley_send_queue_full_total             sends refused or held for a full send queue
//	volley_buffered_bytes                    bytes held by all connections now
//	volley_buffered_bytes_limit              the memory budget (absent without one)
//	volley_topics                            topics with subscribers now
//	volley_subscriptions                     subscriptions now
//	volley_publishes_total                   messages published on this node
//	volley_deliveries_total                  frames queued to subscribers
//	volley_deliveries_skipped_total          messages skipped for slow subscribers
//	volley_slow_subscribers_closed_total     subscribers closed for being slow
//
// When the server's broker is an engine.StatsBroker (see
// engine.Config.Broker), also:
//
//	volley_broker_messages_total{direction}  messages to (out) and from (in) other nodes
//	volley_broker_reconnects_total           the broker's reconnections
//	volley_broker_dropped_total              messages the broker knows it lost
//	volley_broker_connected                  1 while connected, 0 otherwise
func NewCollector(srv *engine.Server) *Collector {
	cfg := srv.Config()
	_, broker := cfg.Broker.(engine.StatsBroker)
	return newCollector(srv.Stats, broker, cfg.MaxBufferedBytes)
}

// newCollector returns a Collector of the snapshots stats returns; the
// tests pass snapshots of their own.
func newCollector(stats func() engine.Stats, broker bool, limit int64) *Collector {
	return &Collector{stats: stats, broker: broker, limit: max(limit, 0), d: newDescs()}
}

// Describe sends the description of every family the Collector may
// report. Any goroutine.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	c.d.each(func(d *prometheus.Desc) { ch <- d })
}

// Collect takes one snapshot of the server's counters and sends its
// metrics. Any goroutine.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	st := c.stats()
	m := metrics{ch: ch, d: &c.d}
	m.connections(&st)
	m.messages(&st)
	m.closes(&st)
	m.memory(&st, c.limit)
	m.topics(&st.Topics)
	if c.broker {
		m.broker(&st.Broker)
	}
}

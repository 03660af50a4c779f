package prom

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/volley-ws/volley/engine"
)

// metrics turns one engine.Stats snapshot into constant metrics, sent on
// ch: one method per group of fields.
type metrics struct {
	ch chan<- prometheus.Metric
	d  *descs
}

func (m metrics) counter(d *prometheus.Desc, v uint64, labels ...string) {
	m.ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
}

func (m metrics) gauge(d *prometheus.Desc, v float64, labels ...string) {
	m.ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
}

// connections: Connections, Accepted, Routes and Refused.
func (m metrics) connections(st *engine.Stats) {
	m.gauge(m.d.connectionsOpen, float64(st.Connections))
	m.counter(m.d.connectionsAccepted, st.Accepted)
	for route, r := range st.Routes {
		api := "blocking"
		if r.Events {
			api = "event"
		}
		m.gauge(m.d.websocketsOpen, float64(r.Open), route, api)
		m.counter(m.d.upgrades, r.Upgraded, route, api)
	}
	for status, n := range st.Refused {
		m.counter(m.d.refused, n, strconv.Itoa(status))
	}
}

// messages: Received and Sent. Every type is reported, zeros included, so
// that a rate over any of them starts from the first scrape.
func (m metrics) messages(st *engine.Stats) {
	for _, dir := range []struct {
		d, bytes *prometheus.Desc
		s        *engine.MessageStats
	}{{m.d.messagesReceived, m.d.bytesReceived, &st.Received}, {m.d.messagesSent, m.d.bytesSent, &st.Sent}} {
		m.counter(dir.d, dir.s.Text, "text")
		m.counter(dir.d, dir.s.Binary, "binary")
		m.counter(dir.d, dir.s.Ping, "ping")
		m.counter(dir.d, dir.s.Pong, "pong")
		m.counter(dir.d, dir.s.Close, "close")
		m.counter(dir.bytes, dir.s.Bytes)
	}
}

// closes: ClosesSent (by server) and ClosesReceived (by client).
func (m metrics) closes(st *engine.Stats) {
	for code, n := range st.ClosesSent {
		m.counter(m.d.closes, n, strconv.Itoa(int(code)), "server")
	}
	for code, n := range st.ClosesReceived {
		m.counter(m.d.closes, n, strconv.Itoa(int(code)), "client")
	}
}

// memory: SendQueueFull, Buffered and the budget.
func (m metrics) memory(st *engine.Stats, limit int64) {
	m.counter(m.d.sendQueueFull, st.SendQueueFull)
	m.gauge(m.d.buffered, float64(st.Buffered))
	if limit > 0 {
		m.gauge(m.d.bufferedLimit, float64(limit))
	}
}

// topics: Topics.
func (m metrics) topics(t *engine.TopicStats) {
	m.gauge(m.d.topics, float64(t.Topics))
	m.gauge(m.d.subscriptions, float64(t.Subscriptions))
	m.counter(m.d.publishes, t.Publishes)
	m.counter(m.d.deliveries, t.Deliveries)
	m.counter(m.d.skipped, t.Skipped)
	m.counter(m.d.slowClosed, t.SlowClosed)
}

// broker: Broker.
func (m metrics) broker(b *engine.BrokerStats) {
	m.counter(m.d.brokerMessages, b.Out, "out")
	m.counter(m.d.brokerMessages, b.In, "in")
	m.counter(m.d.brokerReconnects, b.Reconnects)
	m.counter(m.d.brokerDrops, b.Dropped)
	connected := 0.0
	if b.Connected {
		connected = 1
	}
	m.gauge(m.d.brokerConnected, connected)
}

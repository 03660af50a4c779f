package natsbroker

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
	nats "github.com/nats-io/nats.go"

	"github.com/volley-ws/volley/conn"
	"github.com/volley-ws/volley/engine"
)

// TestTypeCarried: text and binary messages, empty or not, arrive with
// their type and bytes, on the topic they were published on, across a
// cluster.
func TestTypeCarried(t *testing.T) {
	servers := runCluster(t, 2)
	pub := startBroker(t, dial(t, servers[0].ClientURL()), Config{}, func(string, conn.MessageType, []byte) {})
	var rec recorder
	sub := startBroker(t, dial(t, servers[1].ClientURL()), Config{}, rec.deliver)
	subscribe(t, sub, "chat.room-1", servers, 1)

	binary := []byte{0, 1, 2, 0xff, 0x11, 0x12}
	want := []message{
		{"chat.room-1", conn.Text, "hello"},
		{"chat.room-1", conn.Binary, string(binary)},
		{"chat.room-1", conn.Text, ""},
		{"chat.room-1", conn.Binary, ""},
		{"chat.room-1", conn.Text, "日本語"},
	}
	for _, m := range want {
		data := []byte(m.data)
		if err := pub.Publish(m.topic, m.typ, data); err != nil {
			t.Fatalf("Publish: %v", err)
		}
		for i := range data {
			data[i] = 'X' // Publish keeps nothing of data
		}
	}
	got := rec.waitLen(t, len(want))
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("delivery %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if s := pub.Stats(); s.Published != uint64(len(want)) {
		t.Errorf("publisher Stats.Published = %d, want %d", s.Published, len(want))
	}
	if s := sub.Stats(); s.Received != uint64(len(want)) || s.Missed != 0 || s.Subscriptions != 1 {
		t.Errorf("subscriber Stats = %+v", s)
	}
	if err := pub.Publish("chat.room-1", conn.Close, nil); !errors.Is(err, conn.ErrInvalidMessageType) {
		t.Errorf("Publish of a close message: %v, want ErrInvalidMessageType", err)
	}
}

// TestNoEcho: a node subscribed to the topic it publishes on gets none of
// its own messages back (the engine delivers them locally), while the
// other node gets each once; and New refuses a connection without NoEcho.
func TestNoEcho(t *testing.T) {
	ns := runServer(t, "n0", nil)
	var recA, recB recorder
	a := startBroker(t, dial(t, ns.ClientURL()), Config{}, recA.deliver)
	b := startBroker(t, dial(t, ns.ClientURL()), Config{}, recB.deliver)
	subscribe(t, a, "t", []*server.Server{ns}, 1)
	subscribe(t, b, "t", []*server.Server{ns}, 2)
	for i := range 10 {
		if err := a.Publish("t", conn.Text, fmt.Appendf(nil, "a%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Publish("t", conn.Text, []byte("b")); err != nil {
		t.Fatal(err)
	}
	recA.waitLen(t, 1)
	recB.waitLen(t, 10)
	// A round trip through the server on each connection: anything echoed
	// would have been delivered by now.
	for _, br := range []*Broker{a, b} {
		if err := br.nc.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the receivers' queues to drain", func() bool { return len(a.inbox) == 0 && len(b.inbox) == 0 })
	if got := recA.get(); len(got) != 1 || got[0].data != "b" {
		t.Errorf("a received %+v, want only b's message", got)
	}
	if got := recB.get(); len(got) != 10 {
		t.Errorf("b received %d messages, want 10: %+v", len(got), got)
	}

	echo, err := nats.Connect(ns.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer echo.Close()
	if _, err := New(echo, Config{}); !errors.Is(err, ErrEcho) {
		t.Errorf("New without NoEcho: %v, want ErrEcho", err)
	}
}

// TestOrderPerPublisher: three publishers on three cluster nodes, each
// message arrives once and in each publisher's order at the other nodes.
func TestOrderPerPublisher(t *testing.T) {
	servers := runCluster(t, 3)
	const n = 2000
	recs := make([]*recorder, 3)
	brokers := make([]*Broker, 3)
	for i := range brokers {
		recs[i] = new(recorder)
		brokers[i] = startBroker(t, dial(t, servers[i].ClientURL()), Config{}, recs[i].deliver)
	}
	for i, b := range brokers {
		subscribe(t, b, "order", servers, i+1)
	}
	var wg sync.WaitGroup
	for i, b := range brokers {
		wg.Go(func() {
			for j := range n {
				if err := b.Publish("order", conn.Text, fmt.Appendf(nil, "%d:%d", i, j)); err != nil {
					t.Errorf("Publish: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	for i, rec := range recs {
		got := rec.waitLen(t, 2*n)
		next := map[int]int{}
		for _, m := range got {
			var p, j int
			if _, err := fmt.Sscanf(m.data, "%d:%d", &p, &j); err != nil {
				t.Fatalf("node %d: bad message %q", i, m.data)
			}
			if p == i {
				t.Fatalf("node %d received its own message %q", i, m.data)
			}
			if j != next[p] {
				t.Fatalf("node %d: from %d got #%d, want #%d", i, p, j, next[p])
			}
			next[p]++
		}
		if s := brokers[i].Stats(); s.Received != 2*n || s.Missed != 0 || s.Published != n {
			t.Errorf("node %d: Stats = %+v", i, s)
		}
	}
}

// TestGapCounted: messages published while a node is cut off from NATS are
// lost for it (NATS core is at most once); when it is back, the next
// message shows the gap, which is counted exactly, with the disconnect and
// the reconnect.
func TestGapCounted(t *testing.T) {
	ns := runServer(t, "n0", nil)
	servers := []*server.Server{ns}
	p := newProxy(t, strings.TrimPrefix(ns.ClientURL(), "nats://"))
	pubConn := dial(t, ns.ClientURL())
	pub := startBroker(t, pubConn, Config{}, func(string, conn.MessageType, []byte) {})
	var rec recorder
	var log logBuffer
	sub := startBroker(t, dial(t, p.URL(), nats.IgnoreDiscoveredServers()), Config{Logger: log.logger()}, rec.deliver)
	subscribe(t, sub, "gap", servers, 1)

	publish := func(from, to int) {
		t.Helper()
		for i := from; i < to; i++ {
			if err := pub.Publish("gap", conn.Text, fmt.Appendf(nil, "%d", i)); err != nil {
				t.Fatal(err)
			}
		}
		waitFor(t, "the publishes to leave", func() bool { return pub.Stats().Published == uint64(to) })
		if err := pubConn.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	publish(0, 10)
	rec.waitLen(t, 10)

	p.Cut()
	waitFor(t, "the subscriber to see the disconnect", func() bool { return sub.Stats().Disconnects == 1 })
	waitInterest(t, servers, "volley.gap", 0)
	publish(10, 25) // lost for sub
	p.Restore()
	waitFor(t, "the subscriber to reconnect", func() bool { return sub.Stats().Reconnects == 1 })
	waitInterest(t, servers, "volley.gap", 1)
	publish(25, 30)

	got := rec.waitLen(t, 15)
	var want []message
	for _, i := range append(seq(0, 10), seq(25, 30)...) {
		want = append(want, message{"gap", conn.Text, fmt.Sprint(i)})
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("received %v\nwant %v", got, want)
	}
	s := sub.Stats()
	if s.Missed != 15 || s.Received != 15 || s.Stale != 0 || s.Disconnects != 1 || s.Reconnects != 1 {
		t.Errorf("subscriber Stats = %+v, want Missed 15, Received 15, one disconnect and reconnect", s)
	}
	// The disconnect is logged at Warn with its error (or at Info without
	// one), the reconnect at Info, both with the server's URL.
	if rs := log.records(t, "nats: disconnected"); len(rs) != 1 || rs[0]["url"] == "" ||
		!(rs[0]["level"] == "WARN" && rs[0]["err"] != nil || rs[0]["level"] == "INFO" && rs[0]["err"] == nil) {
		t.Errorf("disconnect records %v", rs)
	}
	if rs := log.records(t, "nats: reconnected"); len(rs) != 1 || rs[0]["level"] != "INFO" || !strings.HasPrefix(rs[0]["url"].(string), "nats://") {
		t.Errorf("reconnect records %v", rs)
	}
}

func seq(from, to int) []int {
	var s []int
	for i := from; i < to; i++ {
		s = append(s, i)
	}
	return s
}

// TestUnsubscribeStopsDelivery: after Unsubscribe, the node's interest is
// gone from NATS and nothing more is delivered; a new Subscribe starts a
// new baseline (what was published meanwhile is not missed).
func TestUnsubscribeStopsDelivery(t *testing.T) {
	servers := runCluster(t, 2)
	pubConn := dial(t, servers[0].ClientURL())
	pub := startBroker(t, pubConn, Config{}, func(string, conn.MessageType, []byte) {})
	var rec recorder
	sub := startBroker(t, dial(t, servers[1].ClientURL()), Config{}, rec.deliver)
	subscribe(t, sub, "u", servers, 1)
	subscribe(t, sub, "other", servers, 1)
	pub.Publish("u", conn.Text, []byte("1"))
	rec.waitLen(t, 1)

	if err := sub.Unsubscribe("u"); err != nil {
		t.Fatal(err)
	}
	waitInterest(t, servers, "volley.u", 0)
	if s := sub.Stats(); s.Subscriptions != 1 {
		t.Errorf("Subscriptions = %d after Unsubscribe, want 1", s.Subscriptions)
	}
	pub.Publish("u", conn.Text, []byte("2"))
	pub.Publish("other", conn.Text, []byte("3")) // a marker behind it
	rec.waitLen(t, 2)
	if got := rec.get(); len(got) != 2 || got[1].data != "3" {
		t.Fatalf("received %+v, want 1 then the marker", got)
	}
	if err := sub.Unsubscribe("never-subscribed"); err != nil {
		t.Errorf("Unsubscribe of an unknown topic: %v", err)
	}

	subscribe(t, sub, "u", servers, 1)
	pub.Publish("u", conn.Text, []byte("4"))
	got := rec.waitLen(t, 3)
	if got[2].data != "4" {
		t.Errorf("after resubscribing received %+v", got[2])
	}
	if s := sub.Stats(); s.Missed != 0 || s.Received != 3 {
		t.Errorf("Stats = %+v, want Missed 0, Received 3", s)
	}
}

// TestLongTopics: the longest topics, escaped to the longest subjects under
// the longest prefix, cross a cluster.
func TestLongTopics(t *testing.T) {
	servers := runCluster(t, 2)
	prefix := strings.Repeat("p", MaxPrefixLen-1) + "."
	pub := startBroker(t, dial(t, servers[0].ClientURL()), Config{Prefix: prefix}, func(string, conn.MessageType, []byte) {})
	var rec recorder
	sub := startBroker(t, dial(t, servers[1].ClientURL()), Config{Prefix: prefix}, rec.deliver)
	topics := []string{
		strings.Repeat("*", engine.MaxTopicLength),
		strings.Repeat(".", engine.MaxTopicLength),
		strings.Repeat("日", engine.MaxTopicLength/3),
		strings.Repeat("a", engine.MaxTopicLength),
	}
	for _, topic := range topics {
		if err := sub.Subscribe(topic); err != nil {
			t.Fatal(err)
		}
	}
	for _, topic := range topics {
		s, _ := sub.Subject(topic)
		waitInterest(t, servers, s, 1)
	}
	for _, topic := range topics {
		if err := pub.Publish(topic, conn.Binary, []byte(topic[:8])); err != nil {
			t.Fatal(err)
		}
	}
	got := rec.waitLen(t, len(topics))
	for i, topic := range topics {
		if got[i].topic != topic || got[i].data != topic[:8] {
			t.Errorf("delivery %d on %.20q..., want %.20q...", i, got[i].topic, topic)
		}
	}
	if s := sub.Stats(); s.Errors != 0 || pub.Stats().Errors != 0 {
		t.Errorf("errors: subscriber %+v, publisher %+v", s, pub.Stats())
	}
}

// TestInvalidTopics: topic names the engine refuses are refused with an
// error wrapping conn.ErrInvalidTopic, and nothing is sent.
func TestInvalidTopics(t *testing.T) {
	ns := runServer(t, "n0", nil)
	b := startBroker(t, dial(t, ns.ClientURL()), Config{}, func(string, conn.MessageType, []byte) {})
	before := ns.NumSubscriptions()
	for _, topic := range []string{"", strings.Repeat("x", engine.MaxTopicLength+1), "\xff", "a\x00b"} {
		for name, err := range map[string]error{
			"Publish":     b.Publish(topic, conn.Text, nil),
			"Subscribe":   b.Subscribe(topic),
			"Unsubscribe": b.Unsubscribe(topic),
		} {
			if !errors.Is(err, conn.ErrInvalidTopic) || !strings.Contains(err.Error(), "topic") {
				t.Errorf("%s(%.20q) = %v, want an error wrapping conn.ErrInvalidTopic", name, topic, err)
			}
		}
	}
	if err := b.nc.Flush(); err != nil {
		t.Fatal(err)
	}
	if s := b.Stats(); s.Published != 0 || s.Subscriptions != 0 || s.Errors != 0 || ns.NumSubscriptions() != before {
		t.Errorf("after invalid topics: Stats %+v, server subscriptions %d, were %d", s, ns.NumSubscriptions(), before)
	}
}

// TestLimits: a message over the server's max_payload or over MaxPending
// is refused at once, and counted.
func TestLimits(t *testing.T) {
	ns := runServer(t, "n0", func(o *server.Options) { o.MaxPayload = 1000 })
	b := startBroker(t, dial(t, ns.ClientURL()), Config{MaxPending: 500}, func(string, conn.MessageType, []byte) {})
	if err := b.Publish("t", conn.Binary, make([]byte, 1000-envelopeLen+1)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Publish over max_payload: %v, want ErrTooLarge", err)
	}
	if err := b.Publish("t", conn.Binary, make([]byte, 500)); !errors.Is(err, ErrBacklog) {
		t.Errorf("Publish over MaxPending: %v, want ErrBacklog", err)
	}
	if err := b.Publish("t", conn.Binary, make([]byte, 500-envelopeLen)); err != nil {
		t.Errorf("Publish of exactly MaxPending: %v", err)
	}
	waitFor(t, "the publish", func() bool { return b.Stats().Published == 1 })
	if s := b.Stats(); s.Refused != 2 || s.Pending != 0 {
		t.Errorf("Stats = %+v, want Refused 2, Pending 0", s)
	}
}

// TestLifecycle: the state machine's illegal calls return errors, and
// Config's bad fields are named.
func TestLifecycle(t *testing.T) {
	ns := runServer(t, "n0", nil)
	nc := dial(t, ns.ClientURL())
	b, err := New(nc, Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Publish("t", conn.Text, nil); !errors.Is(err, ErrNotStarted) {
		t.Errorf("Publish before Start: %v", err)
	}
	if err := b.Subscribe("t"); !errors.Is(err, ErrNotStarted) {
		t.Errorf("Subscribe before Start: %v", err)
	}
	if err := b.Start(nil); err == nil {
		t.Error("Start(nil) succeeded")
	}
	deliver := func(string, conn.MessageType, []byte) {}
	if err := b.Start(deliver); err != nil {
		t.Fatal(err)
	}
	if err := b.Start(deliver); !errors.Is(err, ErrStarted) {
		t.Errorf("second Start: %v", err)
	}
	if err := b.Subscribe("t"); err != nil {
		t.Fatal(err)
	}
	waitInterest(t, []*server.Server{ns}, "volley.t", 1)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	// Close ended the subscription and left the caller's connection open.
	waitInterest(t, []*server.Server{ns}, "volley.t", 0)
	if !nc.IsConnected() {
		t.Error("Close closed a connection New was given")
	}
	for name, err := range map[string]error{
		"Close":     b.Close(),
		"Publish":   b.Publish("t", conn.Text, nil),
		"Subscribe": b.Subscribe("t"),
		"Start":     b.Start(deliver),
	} {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", name, err)
		}
	}

	// Close without Start.
	b2, err := New(nc, Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := b2.Close(); err != nil {
		t.Errorf("Close without Start: %v", err)
	}

	for _, tc := range []struct {
		cfg   Config
		field string
	}{
		{Config{Prefix: "no-dot"}, "Config.Prefix"},
		{Config{Prefix: "a.*."}, "Config.Prefix"},
		{Config{MaxPending: -1}, "Config.MaxPending"},
		{Config{ReceiveQueue: -1}, "Config.ReceiveQueue"},
	} {
		if _, err := New(nc, tc.cfg); err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("New(%+v) = %v, want an error naming %s", tc.cfg, err, tc.field)
		}
	}
}

// TestConnect: a broker made by Connect owns its connection (NoEcho, closed
// by Close) and works like one made by New.
func TestConnect(t *testing.T) {
	ns := runServer(t, "n0", nil)
	var rec recorder
	a, err := Connect(ns.ClientURL(), Config{Prefix: "app."}, nats.Name("a"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Connect(ns.ClientURL(), Config{Prefix: "app."})
	if err != nil {
		a.Close()
		t.Fatal(err)
	}
	defer b.Close()
	if !a.nc.Opts.NoEcho || a.nc.Opts.MaxReconnect != -1 || a.nc.Opts.Name != "a" {
		t.Errorf("Connect's options: NoEcho %v, MaxReconnects %d, Name %q", a.nc.Opts.NoEcho, a.nc.Opts.MaxReconnect, a.nc.Opts.Name)
	}
	a.Start(rec.deliver)
	b.Start(func(string, conn.MessageType, []byte) {})
	a.Subscribe("t")
	waitInterest(t, []*server.Server{ns}, "app.t", 1)
	b.Publish("t", conn.Text, []byte("x"))
	rec.waitLen(t, 1)
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if !a.nc.IsClosed() {
		t.Error("Close left Connect's connection open")
	}
	if _, err := Connect("nats://127.0.0.1:1", Config{}, nats.Timeout(100e6)); err == nil {
		t.Error("Connect to a closed port succeeded")
	}
}

// TestSlowConsumer: messages nats.go drops because deliver fell behind
// (ReceiveQueue full) are reported and counted as missed.
func TestSlowConsumer(t *testing.T) {
	ns := runServer(t, "n0", nil)
	pubConn := dial(t, ns.ClientURL())
	pub := startBroker(t, pubConn, Config{}, func(string, conn.MessageType, []byte) {})
	gate := make(chan struct{})
	var delivered atomic.Int32
	var errs atomic.Int32
	subConn := dial(t, ns.ClientURL())
	sub := startBroker(t, subConn, Config{ReceiveQueue: 1, OnError: func(err error) {
		if errors.Is(err, nats.ErrSlowConsumer) {
			errs.Add(1)
		}
	}}, func(string, conn.MessageType, []byte) {
		if delivered.Add(1) == 1 {
			<-gate
		}
	})
	subscribe(t, sub, "slow", []*server.Server{ns}, 1)
	// The first message blocks in deliver, the second waits in the queue,
	// the other eight are dropped by nats.go.
	pub.Publish("slow", conn.Text, nil)
	waitFor(t, "the first delivery", func() bool { return delivered.Load() == 1 })
	for range 9 {
		pub.Publish("slow", conn.Text, nil)
	}
	waitFor(t, "the subscriber's connection to read all 10", func() bool { return subConn.Stats().InMsgs == 10 })
	close(gate)
	// The queued message must leave the queue before the last one comes,
	// or nats.go drops that one too.
	waitFor(t, "the queued message", func() bool { return delivered.Load() == 2 })
	pub.Publish("slow", conn.Text, nil)
	waitDescribed(t, func() string {
		return fmt.Sprintf("3 deliveries: %d, %+v, %d in", delivered.Load(), sub.Stats(), subConn.Stats().InMsgs)
	}, func() bool { return delivered.Load() == 3 })
	waitFor(t, "the slow-consumer error", func() bool { return errs.Load() == 1 })
	if s := sub.Stats(); s.Missed != 8 || s.Received != 3 {
		t.Errorf("Stats = %+v; want Missed 8, Received 3", s)
	}
}

// TestMalformedAndPanics: a foreign message on a subscribed subject is
// counted and not delivered; a panic in deliver is recovered and reported,
// and the next message is delivered.
func TestMalformedAndPanics(t *testing.T) {
	ns := runServer(t, "n0", nil)
	var reported []error
	var mu sync.Mutex
	var rec recorder
	var log logBuffer
	sub := startBroker(t, dial(t, ns.ClientURL()), Config{Logger: log.logger(), OnError: func(err error) {
		mu.Lock()
		reported = append(reported, err)
		mu.Unlock()
	}}, func(topic string, typ conn.MessageType, data []byte) {
		if bytes.Equal(data, []byte("panic")) {
			panic("deliver failed")
		}
		rec.deliver(topic, typ, data)
	})
	subscribe(t, sub, "t", []*server.Server{ns}, 1)
	raw := dial(t, ns.ClientURL())
	raw.Publish("volley.t", []byte("not an envelope"))
	raw.Publish("volley.t", []byte{0x13, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0, 0, 0, 0, 1}) // type 3
	pub := startBroker(t, raw, Config{}, func(string, conn.MessageType, []byte) {})
	pub.Publish("t", conn.Text, []byte("panic"))
	pub.Publish("t", conn.Text, []byte("after"))
	got := rec.waitLen(t, 1)
	if got[0].data != "after" {
		t.Errorf("delivered %+v", got)
	}
	s := sub.Stats()
	mu.Lock()
	defer mu.Unlock()
	if s.Malformed != 2 || s.Errors != 3 || len(reported) != 3 || !strings.Contains(reported[2].Error(), "panicked") {
		t.Errorf("Stats %+v, reported %v", s, reported)
	}
	// Logged: the first malformed message at Warn (the second is left out,
	// within errLogEvery), the panic at Error with its topic and stack.
	var warns, errs []map[string]any
	for _, r := range log.records(t, "nats: broker error") {
		switch r["level"] {
		case "WARN":
			warns = append(warns, r)
		case "ERROR":
			errs = append(errs, r)
		}
	}
	if len(warns) != 1 || !strings.Contains(warns[0]["err"].(string), "not a volley envelope") {
		t.Errorf("Warn records %v, want the first malformed message", warns)
	}
	if len(errs) != 1 || errs[0]["topic"] != "t" || errs[0]["panic"] != "deliver failed" ||
		!strings.Contains(errs[0]["stack"].(string), "TestMalformedAndPanics") {
		t.Errorf("Error records %v, want the panic with its topic and stack", errs)
	}
}

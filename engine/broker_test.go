package engine_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/volley-ws/volley/conn"
	"github.com/volley-ws/volley/engine"
	"github.com/volley-ws/volley/internal/wstest"
)

// hub is an in-process cluster: each node's broker hands its publishes to
// the nodes that subscribed to the topic, never back to the publisher. It
// records every call, to check what the engine asks of a Broker.
type hub struct {
	mu    sync.Mutex
	nodes []*hubBroker
}

type hubBroker struct {
	h       *hub
	name    string
	deliver func(string, conn.MessageType, []byte)
	topics  map[string]bool
	calls   []string // "start", "sub T", "unsub T", "pub T", "close"
	fail    error    // returned by Subscribe and Publish when set
}

func (h *hub) node(name string) *hubBroker {
	h.mu.Lock()
	defer h.mu.Unlock()
	b := &hubBroker{h: h, name: name, topics: map[string]bool{}}
	h.nodes = append(h.nodes, b)
	return b
}

func (b *hubBroker) record(call string) {
	b.calls = append(b.calls, call)
}

func (b *hubBroker) Start(deliver func(string, conn.MessageType, []byte)) error {
	b.h.mu.Lock()
	defer b.h.mu.Unlock()
	b.deliver = deliver
	b.record("start")
	return nil
}

func (b *hubBroker) Subscribe(topic string) error {
	b.h.mu.Lock()
	defer b.h.mu.Unlock()
	if b.fail != nil {
		return b.fail
	}
	if b.topics[topic] {
		return fmt.Errorf("%s subscribed to %q twice", b.name, topic)
	}
	b.topics[topic] = true
	b.record("sub " + topic)
	return nil
}

func (b *hubBroker) Unsubscribe(topic string) error {
	b.h.mu.Lock()
	defer b.h.mu.Unlock()
	if !b.topics[topic] {
		return fmt.Errorf("%s unsubscribed from %q, not subscribed", b.name, topic)
	}
	delete(b.topics, topic)
	b.record("unsub " + topic)
	return nil
}

func (b *hubBroker) Publish(topic string, t conn.MessageType, data []byte) error {
	b.h.mu.Lock()
	if b.fail != nil {
		b.h.mu.Unlock()
		return b.fail
	}
	b.record("pub " + topic)
	var to []func(string, conn.MessageType, []byte)
	for _, n := range b.h.nodes {
		if n != b && n.topics[topic] && n.deliver != nil {
			to = append(to, n.deliver)
		}
	}
	b.h.mu.Unlock()
	for _, deliver := range to {
		deliver(topic, t, data)
	}
	return nil
}

func (b *hubBroker) Close() error {
	b.h.mu.Lock()
	defer b.h.mu.Unlock()
	b.record("close")
	return nil
}

func (b *hubBroker) log() []string {
	b.h.mu.Lock()
	defer b.h.mu.Unlock()
	return slices.Clone(b.calls)
}

// TestBrokerTwoNodes: two servers joined by a broker. A message published
// on either node reaches every subscriber on both, once (the publishing
// node delivers its own publishes; the broker does not hand them back),
// in order per publisher; a node subscribes to a topic through the broker
// with its first local subscriber and unsubscribes after the last, once
// each; the broker starts with the server and closes with it.
func TestBrokerTwoNodes(t *testing.T) {
	var h hub
	ba, bb := h.node("a"), h.node("b")
	a := tpServer(t, engine.Config{Broker: ba})
	b := tpServer(t, engine.Config{Broker: bb})
	var subs []*wstest.Conn
	for i := range 6 {
		srv, path := a, "/ev"
		if i%2 == 1 {
			srv = b
		}
		if i%3 == 2 {
			path = "/bl"
		}
		subs = append(subs, tpDial(t, srv.Addr().String(), path, "chat"))
	}
	tpAwait(t, a, "chat", 3)
	tpAwait(t, b, "chat", 3)
	// Each node publishes from its own goroutine; a client of node b
	// publishes through its connection too (Server.Publish: it gets its
	// own message).
	const n = 200
	var wg sync.WaitGroup
	for _, srv := range []*engine.Server{a, b} {
		wg.Go(func() {
			for i := range n {
				if err := srv.Publish("chat", conn.Text, fmt.Appendf(nil, "%s %d", srv.Addr(), i)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	for k, c := range subs {
		next := map[string]int{}
		for range 2 * n {
			_, p := c.ReadMessage()
			var from string
			var i int
			if _, err := fmt.Sscanf(string(p), "%s %d", &from, &i); err != nil {
				t.Fatalf("subscriber %d: %q", k, p)
			}
			if i != next[from] {
				t.Fatalf("subscriber %d: %s's message %d came when %d was due (lost, repeated or out of order)", k, from, i, next[from])
			}
			next[from]++
		}
	}
	if sa, sb := a.TopicStats(), b.TopicStats(); sa.Publishes != n || sa.Received != n || sb.Received != n {
		t.Errorf("stats a %+v b %+v", sa, sb)
	}
	// The last subscriber of a node leaves: the node unsubscribes once.
	for i, c := range subs {
		if i%2 == 1 { // node b's
			c.WriteClose(1000, "")
		}
	}
	tpAwait(t, b, "chat", 0)
	if err := a.Publish("chat", conn.Text, []byte("only a")); err != nil {
		t.Fatal(err)
	}
	for i, c := range subs {
		if i%2 == 0 {
			if _, p := c.ReadMessage(); string(p) != "only a" {
				t.Fatalf("got %q", p)
			}
		}
	}
	want := []string{"start", "sub chat"}
	for range n {
		want = append(want, "pub chat")
	}
	want = append(want, "unsub chat")
	if got := bb.log(); !slices.Equal(got, want) {
		t.Errorf("node b's broker calls: %d calls, %q ... %q; want start, sub, %d pub, unsub", len(got), got[:min(3, len(got))], got[max(0, len(got)-2):], n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := b.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if got := bb.log(); got[len(got)-1] != "close" {
		t.Errorf("the broker was not closed by Shutdown: %q", got[len(got)-1])
	}
}

// TestBrokerErrors: a broker that refuses is reported, wrapped, to the
// caller: a refused Publish after the local subscribers got the message,
// a refused first Subscribe as Subscribe's error, with no subscription.
func TestBrokerErrors(t *testing.T) {
	var h hub
	br := h.node("x")
	srv := tpServer(t, engine.Config{Broker: br})
	c := tpDial(t, srv.Addr().String(), "/ev", "t")
	tpAwait(t, srv, "t", 1)
	refused := errors.New("cluster unreachable")
	h.mu.Lock()
	br.fail = refused
	h.mu.Unlock()
	if err := srv.Publish("t", conn.Text, []byte("local")); !errors.Is(err, refused) {
		t.Errorf("Publish: %v, want the broker's error", err)
	}
	if _, p := c.ReadMessage(); string(p) != "local" {
		t.Errorf("the local subscriber got %q", p)
	}
	c.WriteFrame(true, 0, wstest.OpText, []byte("sub:new"), true)
	if _, p := c.ReadMessage(); string(p) != "subscribed" {
		t.Fatalf("got %q", p)
	}
	if n := srv.Subscribers("new"); n != 0 {
		t.Errorf("a subscription the broker refused exists: %d subscribers", n)
	}
}

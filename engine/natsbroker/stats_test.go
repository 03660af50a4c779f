package natsbroker

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
	nats "github.com/nats-io/nats.go"

	"github.com/volley-ws/volley/conn"
	"github.com/volley-ws/volley/engine"
)

// TestBrokerStats: the engine's Server.Stats reports the broker's
// counters (engine.StatsBroker), and they count what happened: messages
// out and in, a refused publish, messages lost while cut off from NATS,
// the reconnect, and the connection's state.
func TestBrokerStats(t *testing.T) {
	ns := runServer(t, "n0", func(o *server.Options) { o.MaxPayload = 1000 })
	servers := []*server.Server{ns}
	p := newProxy(t, strings.TrimPrefix(ns.ClientURL(), "nats://"))

	pubConn := dial(t, ns.ClientURL())
	pub, err := New(pubConn, Config{})
	if err != nil {
		t.Fatal(err)
	}
	srv := engine.New(engine.Config{Addr: "127.0.0.1:0", EventLoops: 1, Broker: pub})
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	var rec recorder
	subConn := dial(t, p.URL(), nats.IgnoreDiscoveredServers())
	sub := startBroker(t, subConn, Config{}, rec.deliver)
	subscribe(t, sub, "s", servers, 1)

	sent := 0
	publish := func(n int) {
		t.Helper()
		for range n {
			if err := srv.Publish("s", conn.Text, fmt.Appendf(nil, "%d", sent)); err != nil {
				t.Fatal(err)
			}
			sent++
		}
		waitFor(t, "the publishes to leave", func() bool { return pub.Stats().Published == uint64(sent) })
		if err := pubConn.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	publish(5)
	rec.waitLen(t, 5)
	if err := srv.Publish("s", conn.Binary, make([]byte, 1000)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("publish over max_payload: %v", err)
	}

	p.Cut()
	waitFor(t, "the subscriber to see the disconnect", func() bool { return sub.Stats().Disconnects == 1 })
	if sub.BrokerStats().Connected {
		t.Error("BrokerStats().Connected while cut off")
	}
	waitInterest(t, servers, "volley.s", 0)
	publish(3) // lost for sub
	p.Restore()
	waitFor(t, "the subscriber to reconnect", func() bool { return sub.Stats().Reconnects == 1 })
	waitInterest(t, servers, "volley.s", 1)
	publish(1)
	rec.waitLen(t, 6)

	if got, want := srv.Stats().Broker, (engine.BrokerStats{Out: 9, Dropped: 1, Connected: true}); got != want {
		t.Errorf("publisher's Server.Stats().Broker = %+v, want %+v", got, want)
	}
	if got, want := sub.BrokerStats(), (engine.BrokerStats{In: 6, Reconnects: 1, Dropped: 3, Connected: true}); got != want {
		t.Errorf("subscriber's BrokerStats = %+v, want %+v", got, want)
	}
	subConn.Close()
	if sub.BrokerStats().Connected {
		t.Error("BrokerStats().Connected after the connection closed")
	}
}

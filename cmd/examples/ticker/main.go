// Command ticker is a price feed: a WebSocket on /ticks subscribes to the
// topic "ticks" when it opens, and one goroutine publishes a tick to that
// topic every -every, however many subscribers there are and however fast
// they read.
//
//	go run ./cmd/examples/ticker -addr 127.0.0.1:8080 -every 100ms
//
// A tick is JSON: {"seq":42,"price":101.37,"ms":1700000000000}. seq counts
// up by one, so a subscriber sees when it was skipped.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"net"
	"os/signal"
	"syscall"
	"time"

	"github.com/volley-ws/volley/conn"
	"github.com/volley-ws/volley/engine"
)

const topic = "ticks"

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address host:port")
	every := flag.Duration("every", 100*time.Millisecond, "time between two ticks")
	flag.Parse()
	// The context ends on SIGINT or SIGTERM: run then shuts down.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	ready := func(a net.Addr) { log.Printf("ticks on ws://%s/ticks", a) }
	if err := run(ctx, *addr, *every, ready); err != nil {
		log.Fatal(err)
	}
}

// subscriber is the event API's handler for /ticks: its callbacks run on
// the connection's event loop, with no goroutine per connection.
type subscriber struct{}

func (subscriber) OnOpen(c *engine.Conn) {
	// Every tick published from now on is sent to c, in order.
	if err := c.Subscribe(topic); err != nil {
		c.Close(conn.StatusInternalError, "cannot subscribe")
	}
}

// OnMessage ignores what a subscriber sends: the feed is one-way.
func (subscriber) OnMessage(*engine.Conn, conn.MessageType, []byte) {}

// OnClose has nothing to undo: subscriptions end with the connection.
func (subscriber) OnClose(*engine.Conn, error) {}

// run serves on addr, calls ready with the address once it accepts
// connections, publishes a tick every period until ctx ends, and then
// shuts down gracefully.
func run(ctx context.Context, addr string, every time.Duration, ready func(net.Addr)) error {
	srv := engine.New(engine.Config{
		Addr: addr,
		// A subscriber is sent every tick unless it has 64 KiB of them
		// unread (a stalled network, a frozen client). Then the ticks it
		// has no room for are skipped, not queued: a late price is a wrong
		// price. SlowClose, the default, would close it with 1008 instead.
		// Either way Publish never waits for a subscriber, so one slow
		// reader cannot delay the feed for the others.
		MaxUnsentBytes: 64 << 10,
		SlowSubscriber: engine.SlowSkip,
	})
	srv.HandleEvents("/ticks", subscriber{})
	if err := srv.Start(); err != nil {
		return err
	}
	ready(srv.Addr())
	publish(ctx, srv, every)

	st := srv.TopicStats()
	log.Printf("%d ticks published, %d sent, %d skipped for slow subscribers", st.Publishes, st.Deliveries, st.Skipped)
	// Shutdown sends close 1001 to every subscriber and waits for them.
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}

// publish sends a tick to the topic every period until ctx ends. Publish
// may be called from any goroutine (here, run's): it frames the message
// once and hands it to the event loops, which write it to their
// subscribers.
func publish(ctx context.Context, srv *engine.Server, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	price := 100.0
	var msg []byte
	for seq := 1; ; seq++ {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			price = max(price+rand.NormFloat64()*0.1, 0.01) // a random walk
			msg = fmt.Appendf(msg[:0], `{"seq":%d,"price":%.2f,"ms":%d}`, seq, price, now.UnixMilli())
			// Publish keeps nothing of msg, so the buffer is reused.
			if err := srv.Publish(topic, conn.Text, msg); err != nil {
				log.Print(err)
			}
		}
	}
}

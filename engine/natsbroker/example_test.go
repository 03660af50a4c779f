package natsbroker_test

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/volley-ws/volley/conn"
	"github.com/volley-ws/volley/engine"
	"github.com/volley-ws/volley/engine/natsbroker"
	"github.com/volley-ws/volley/internal/wsclient"
)

// chat subscribes each connection to "lobby" and publishes what it sends
// there, to the subscribers of every node.
type chat struct{ srv *engine.Server }

func (h *chat) OnOpen(c *engine.Conn) {
	if err := c.Subscribe("lobby"); err != nil {
		c.Close(conn.StatusInternalError, "subscribe failed")
	}
}

func (h *chat) OnMessage(c *engine.Conn, t conn.MessageType, p []byte) {
	_ = h.srv.Publish("lobby", t, p)
}

func (h *chat) OnClose(*engine.Conn, error) {}

// Two volley nodes share their topics through NATS: a message a client
// sends to node A reaches a client of node B. (A NATS server runs in the
// process here; in production the nodes connect to a NATS cluster.)
func ExampleConnect() {
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	ns.Start()
	defer ns.WaitForShutdown()
	defer ns.Shutdown()
	if !ns.ReadyForConnections(5 * time.Second) {
		fmt.Println("nats-server not ready")
		return
	}

	var addrs []string
	for range 2 {
		b, err := natsbroker.Connect(ns.ClientURL(), natsbroker.Config{})
		if err != nil {
			fmt.Println(err)
			return
		}
		srv := engine.New(engine.Config{Addr: "127.0.0.1:0", Broker: b})
		srv.HandleEvents("/chat", &chat{srv: srv})
		if err := srv.Start(); err != nil { // starts the broker
			fmt.Println(err)
			return
		}
		defer srv.Shutdown(context.Background()) // closes the broker
		addrs = append(addrs, srv.Addr().String())
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	a, _, err := wsclient.Dial(ctx, "ws://"+addrs[0]+"/chat", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer a.CloseNow()
	b, _, err := wsclient.Dial(ctx, "ws://"+addrs[1]+"/chat", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer b.CloseNow()
	// Node B subscribes to the topic's subject once its first client has
	// arrived; wait until NATS knows.
	for !ns.GlobalAccount().SubscriptionInterest("volley.lobby") {
		if ctx.Err() != nil {
			fmt.Println("node B did not subscribe")
			return
		}
		time.Sleep(time.Millisecond)
	}

	a.Send(wsclient.Text, []byte("hello from A"))
	_, msg, err := b.Receive(ctx)
	fmt.Println(string(msg), err)
	// Output: hello from A <nil>
}

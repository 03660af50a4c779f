package natsbroker

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	nats "github.com/nats-io/nats.go"

	"github.com/volley-ws/volley/conn"
	"github.com/volley-ws/volley/engine"
	"github.com/volley-ws/volley/internal/wsclient"
)

// End to end: volley servers on a three-node NATS cluster, one server per
// NATS node, WebSocket clients on every server. A client subscribes to the
// topic in its URL (?t=...) when it connects and is greeted with "hello";
// each message it sends is published to the topic with Server.Publish, so
// every client receives every message, its own included (the local ones
// from its server, the others through NATS).

// node is a volley server whose broker is connected to one NATS node.
type node struct {
	nc     *nats.Conn
	broker *Broker
	srv    *engine.Server
}

// startNodes starts one volley server per NATS server. Node i connects to
// servers[i] first and fails over to the next ones in order.
func startNodes(t *testing.T, servers []*server.Server) []*node {
	t.Helper()
	nodes := make([]*node, len(servers))
	for i := range servers {
		var order []*server.Server
		for j := range servers {
			order = append(order, servers[(i+j)%len(servers)])
		}
		nc := dial(t, urls(order...), nats.Name(fmt.Sprintf("volley-%d", i)))
		b, err := New(nc, Config{})
		if err != nil {
			t.Fatal(err)
		}
		srv := engine.New(engine.Config{Addr: "127.0.0.1:0", EventLoops: 2, Broker: b})
		srv.HandleEvents("/ws", &fanout{srv: srv})
		if err := srv.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
			defer cancel()
			if err := srv.Shutdown(ctx); err != nil {
				t.Errorf("node %d: shutdown: %v", i, err)
			}
		})
		nodes[i] = &node{nc: nc, broker: b, srv: srv}
	}
	return nodes
}

// fanout is the test servers' event handler.
type fanout struct{ srv *engine.Server }

func (h *fanout) OnOpen(c *engine.Conn) {
	q, _ := url.ParseQuery(c.Request().RawQuery)
	topic := q.Get("t")
	c.SetUserData(topic)
	if err := c.Subscribe(topic); err != nil {
		reason := err.Error()
		if len(reason) > 123 {
			reason = reason[:123]
		}
		c.Close(conn.StatusInternalError, reason)
		return
	}
	_ = c.SendText("hello")
}

func (h *fanout) OnMessage(c *engine.Conn, t conn.MessageType, p []byte) {
	topic, _ := c.UserData().(string)
	if err := h.srv.Publish(topic, t, p); err != nil {
		_ = c.SendText("error: " + err.Error())
	}
}

func (h *fanout) OnClose(*engine.Conn, error) {}

// client is a WebSocket client of a test server. Its reader goroutine
// records, per publisher, the messages "<publisher>:<n>" it receives and
// any that come twice or out of order.
type client struct {
	name string
	ws   *wsclient.Conn
	done chan struct{}

	mu      sync.Mutex
	last    map[string]int // publisher -> last n received
	count   map[string]int // publisher -> messages received
	total   int
	badness []string
	err     error // why the reader stopped
}

// connect dials node's server, subscribed to topic, and waits for the
// greeting; the reader runs until the connection ends (closed at the end
// of the test at the latest).
func connect(t *testing.T, n *node, name, topic string) *client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	u := "ws://" + n.srv.Addr().String() + "/ws?t=" + url.QueryEscape(topic)
	ws, _, err := wsclient.Dial(ctx, u, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", u, err)
	}
	if typ, p, err := ws.Receive(ctx); err != nil || typ != wsclient.Text || string(p) != "hello" {
		ws.CloseNow()
		t.Fatalf("%s: first message %v %q %v, want hello", name, typ, p, err)
	}
	c := &client{name: name, ws: ws, done: make(chan struct{}), last: map[string]int{}, count: map[string]int{}}
	go c.read()
	t.Cleanup(func() {
		c.ws.CloseNow()
		<-c.done
	})
	return c
}

func (c *client) read() {
	defer close(c.done)
	for {
		_, p, err := c.ws.Receive(context.Background())
		c.mu.Lock()
		if err != nil {
			c.err = err
			c.mu.Unlock()
			return
		}
		pub, nstr, _ := strings.Cut(string(p), ":")
		n, err := strconv.Atoi(nstr)
		switch {
		case err != nil:
			c.badness = append(c.badness, fmt.Sprintf("unexpected message %q", p))
		case c.count[pub] > 0 && n <= c.last[pub]:
			c.badness = append(c.badness, fmt.Sprintf("%s #%d after #%d", pub, n, c.last[pub]))
		default:
			c.last[pub] = n
			c.count[pub]++
			c.total++
		}
		c.mu.Unlock()
	}
}

// send publishes n messages "<c.name>:<i>" through c, pausing between them.
func (c *client) send(t *testing.T, n int, pause time.Duration) {
	for i := range n {
		if err := c.ws.Send(wsclient.Text, fmt.Appendf(nil, "%s:%d", c.name, i)); err != nil {
			t.Errorf("%s: send #%d: %v", c.name, i, err)
			return
		}
		if pause > 0 {
			time.Sleep(pause)
		}
	}
}

// state returns a copy of what c recorded.
func (c *client) state() (count map[string]int, last map[string]int, total int, badness []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	count, last = map[string]int{}, map[string]int{}
	for k, v := range c.count {
		count[k] = v
	}
	for k, v := range c.last {
		last[k] = v
	}
	return count, last, c.total, append([]string(nil), c.badness...)
}

// sendAll makes every client send n messages at once.
func sendAll(t *testing.T, clients []*client, n int, pause time.Duration) {
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Go(func() { c.send(t, n, pause) })
	}
	wg.Wait()
}

// TestClusterFanOut: six clients on three volley servers on three NATS
// nodes each publish 300 messages at once, on a topic that needs escaping;
// every client receives all 1800 exactly once and in each publisher's
// order. Each node sends each of its publishes to NATS once and receives
// each of the others' once.
func TestClusterFanOut(t *testing.T) {
	const topic, perClient = "chat.* >.日本..", 300
	servers := runCluster(t, 3)
	nodes := startNodes(t, servers)
	var clients []*client
	for i, n := range nodes {
		for j := range 2 {
			clients = append(clients, connect(t, n, fmt.Sprintf("n%dc%d", i, j), topic))
		}
	}
	subject, err := nodes[0].broker.Subject(topic)
	if err != nil {
		t.Fatal(err)
	}
	waitInterest(t, servers, subject, 3)

	sendAll(t, clients, perClient, 0)
	all := len(clients) * perClient
	for _, c := range clients {
		waitDescribed(t, func() string {
			_, _, total, bad := c.state()
			return fmt.Sprintf("%s to receive %d messages: has %d, errors %v", c.name, all, total, bad)
		}, func() bool { _, _, total, _ := c.state(); return total == all })
	}
	for _, c := range clients {
		count, last, _, bad := c.state()
		if len(bad) > 0 {
			t.Errorf("%s: %v", c.name, bad)
		}
		for _, p := range clients {
			if count[p.name] != perClient || last[p.name] != perClient-1 {
				t.Errorf("%s: from %s %d messages, last #%d", c.name, p.name, count[p.name], last[p.name])
			}
		}
	}
	remote := uint64(all - 2*perClient)
	for i, n := range nodes {
		s, ts, ns := n.broker.Stats(), n.srv.TopicStats(), n.nc.Stats()
		if s.Published != 2*perClient || s.Received != remote || s.Missed != 0 || s.Errors != 0 || s.Subscriptions != 1 {
			t.Errorf("node %d: broker Stats %+v", i, s)
		}
		if ts.Received != remote || ts.Publishes != 2*perClient {
			t.Errorf("node %d: TopicStats %+v", i, ts)
		}
		// Each publish crossed NATS once, and came to each other node once.
		if ns.OutMsgs != 2*perClient || ns.InMsgs != remote {
			t.Errorf("node %d: NATS connection sent %d and received %d messages, want %d and %d",
				i, ns.OutMsgs, ns.InMsgs, 2*perClient, remote)
		}
	}
}

// TestNodeKilledMidStream: the NATS node of volley server 0 is shut down
// while every client publishes. Server 0's broker reconnects to another
// node and delivery resumes: every client receives the last message of
// every publisher, nothing twice or out of order, and what a client lacks
// is exactly the gap its server's broker counted.
func TestNodeKilledMidStream(t *testing.T) {
	const topic, perClient = "ticker", 400
	servers := runCluster(t, 3)
	nodes := startNodes(t, servers)
	var clients []*client
	for i, n := range nodes {
		for j := range 2 {
			clients = append(clients, connect(t, n, fmt.Sprintf("n%dc%d", i, j), topic))
		}
	}
	waitInterest(t, servers, "volley."+topic, 3)

	sending := make(chan struct{})
	go func() {
		defer close(sending)
		sendAll(t, clients, perClient, time.Millisecond)
	}()
	waitFor(t, "a third of the messages", func() bool {
		_, _, total, _ := clients[0].state()
		return total >= len(clients)*perClient/3
	})
	servers[0].Shutdown()
	servers[0].WaitForShutdown()
	waitFor(t, "node 0 to reconnect", func() bool { return nodes[0].broker.Stats().Reconnects == 1 })
	<-sending

	for _, c := range clients {
		waitDescribed(t, func() string {
			_, last, _, _ := c.state()
			return fmt.Sprintf("%s to receive every publisher's last message: has %v", c.name, last)
		}, func() bool {
			count, last, _, _ := c.state()
			for _, p := range clients {
				if count[p.name] == 0 || last[p.name] != perClient-1 {
					return false
				}
			}
			return true
		})
	}
	all := len(clients) * perClient
	for i, c := range clients {
		n := nodes[i/2]
		count, _, total, bad := c.state()
		if len(bad) > 0 {
			t.Errorf("%s: %v", c.name, bad)
		}
		for _, p := range clients[i/2*2 : i/2*2+2] {
			if count[p.name] != perClient {
				t.Errorf("%s: %d of the %d messages of %s on the same server", c.name, count[p.name], perClient, p.name)
			}
		}
		s := n.broker.Stats()
		if missing := uint64(all - total); missing != s.Missed {
			t.Errorf("%s lacks %d messages; its broker counted %d missed (%+v)", c.name, missing, s.Missed, s)
		}
	}
	for i, n := range nodes {
		t.Logf("node %d: %+v", i, n.broker.Stats())
	}
	if s := nodes[0].broker.Stats(); s.Disconnects != 1 || s.Reconnects != 1 {
		t.Errorf("node 0: %d disconnects and %d reconnects, want 1 and 1", s.Disconnects, s.Reconnects)
	}
}

// TestSubscriberLeavesMidStream: the only subscriber on server 2 leaves
// while the clients of servers 0 and 1 publish: server 2's broker
// unsubscribes (NATS stops sending there), and the others still receive
// everything, in order.
func TestSubscriberLeavesMidStream(t *testing.T) {
	const topic, perClient = "leave", 300
	servers := runCluster(t, 3)
	nodes := startNodes(t, servers)
	pubs := []*client{connect(t, nodes[0], "n0c0", topic), connect(t, nodes[1], "n1c0", topic)}
	leaver := connect(t, nodes[2], "n2c0", topic)
	waitInterest(t, servers, "volley."+topic, 3)

	sending := make(chan struct{})
	go func() {
		defer close(sending)
		sendAll(t, pubs, perClient, 200*time.Microsecond)
	}()
	waitFor(t, "the leaver to receive a quarter", func() bool {
		_, _, total, _ := leaver.state()
		return total >= len(pubs)*perClient/4
	})
	if err := leaver.ws.Close(1000, "bye"); err != nil {
		t.Errorf("leaver: close: %v", err)
	}
	waitFor(t, "server 2 to unsubscribe", func() bool {
		return nodes[2].broker.Stats().Subscriptions == 0 && len(nodes[2].srv.Topics()) == 0
	})
	waitInterest(t, servers, "volley."+topic, 2)
	<-sending

	all := len(pubs) * perClient
	for _, c := range pubs {
		waitFor(t, c.name+" to receive everything", func() bool { _, _, total, _ := c.state(); return total == all })
		if _, _, _, bad := c.state(); len(bad) > 0 {
			t.Errorf("%s: %v", c.name, bad)
		}
	}
	_, _, got, bad := leaver.state()
	if len(bad) > 0 || got >= all {
		t.Errorf("leaver received %d of %d before leaving, errors %v", got, all, bad)
	}
	if s := nodes[2].broker.Stats(); s.Missed != 0 || s.Errors != 0 {
		t.Errorf("server 2's broker: %+v", s)
	}
}

// TestBadTopicNames: a name the engine refuses is refused before it reaches
// the broker, with an error that says why (Server.Publish, and the close
// reason of a client whose subscription failed); names that are fine for
// volley but not as NATS subjects travel escaped.
func TestBadTopicNames(t *testing.T) {
	servers := runCluster(t, 2)
	nodes := startNodes(t, servers)
	for _, topic := range []string{"", strings.Repeat("x", engine.MaxTopicLength+1), "bad\xffutf8", "nul\x00"} {
		err := nodes[0].srv.Publish(topic, conn.Text, []byte("x"))
		if !errors.Is(err, conn.ErrInvalidTopic) || !strings.Contains(err.Error(), "topic") {
			t.Errorf("Publish(%.20q) = %v, want an error wrapping conn.ErrInvalidTopic", topic, err)
		}
	}
	if s := nodes[0].broker.Stats(); s.Published != 0 || s.Refused != 0 {
		t.Errorf("the broker saw invalid topics: %+v", s)
	}

	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	ws, _, err := wsclient.Dial(ctx, "ws://"+nodes[0].srv.Addr().String()+"/ws?t=", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	_, _, err = ws.Receive(ctx)
	var ce *wsclient.CloseError
	if !errors.As(err, &ce) || ce.Code != int(conn.StatusInternalError) || !strings.Contains(ce.Reason, "invalid topic") {
		t.Errorf("subscribing to the empty topic: %v, want a close saying invalid topic", err)
	}

	// Wildcards, spaces, percent signs, dots and non-ASCII are topic
	// characters like any other.
	for _, topic := range []string{"*", ">", "a b", "100%", "..", "$SYS.x", "ü"} {
		sub := connect(t, nodes[1], "sub", topic)
		subject, _ := nodes[1].broker.Subject(topic)
		waitInterest(t, servers, subject, 1)
		if err := nodes[0].srv.Publish(topic, conn.Text, []byte("p:0")); err != nil {
			t.Fatalf("Publish(%q): %v", topic, err)
		}
		waitFor(t, fmt.Sprintf("the message on %q", topic), func() bool { _, _, total, _ := sub.state(); return total == 1 })
		sub.ws.CloseNow()
	}
}

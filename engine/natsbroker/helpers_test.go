package natsbroker

import (
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	nats "github.com/nats-io/nats.go"

	"github.com/volley-ws/volley/conn"
)

// testTimeout bounds every wait in these tests.
const testTimeout = 10 * time.Second

// runServer starts an in-process nats-server on 127.0.0.1 (random port),
// changed by mod if not nil, and shuts it down at the end of the test.
func runServer(t testing.TB, name string, mod func(*server.Options)) *server.Server {
	t.Helper()
	o := &server.Options{
		ServerName: name,
		Host:       "127.0.0.1",
		Port:       -1,
		NoLog:      true,
		NoSigs:     true,
	}
	if mod != nil {
		mod(o)
	}
	ns, err := server.NewServer(o)
	if err != nil {
		t.Fatalf("nats-server %s: %v", name, err)
	}
	ns.Start()
	if !ns.ReadyForConnections(testTimeout) {
		ns.Shutdown()
		t.Fatalf("nats-server %s not ready after %v", name, testTimeout)
	}
	t.Cleanup(func() {
		ns.Shutdown()
		ns.WaitForShutdown()
	})
	return ns
}

// runCluster starts n clustered servers (each routing to the first; the
// cluster gossips itself into a full mesh) and waits until every one has
// routes to all others.
func runCluster(t testing.TB, n int) []*server.Server {
	t.Helper()
	var servers []*server.Server
	var seed []*url.URL
	for i := range n {
		servers = append(servers, runServer(t, fmt.Sprintf("n%d", i), func(o *server.Options) {
			o.Cluster = server.ClusterOpts{Name: "volley-test", Host: "127.0.0.1", Port: -1}
			o.Routes = seed
		}))
		if i == 0 {
			seed = []*url.URL{{Scheme: "nats", Host: servers[0].ClusterAddr().String()}}
		}
	}
	waitFor(t, "a full-mesh cluster", func() bool {
		for _, s := range servers {
			if s.NumRemotes() != n-1 {
				return false
			}
		}
		return true
	})
	return servers
}

// waitFor polls cond until it holds, failing the test after testTimeout.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	waitDescribed(t, func() string { return what }, cond)
}

// waitDescribed is waitFor with a description of what it waits for made
// when it times out (to show the state then).
func waitDescribed(t testing.TB, what func() string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", testTimeout, what())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitInterest waits until each server sees want subscriptions (local and
// remote) on the subject.
func waitInterest(t testing.TB, servers []*server.Server, subject string, want int) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%d subscriptions on %s on every server", want, subject), func() bool {
		for _, s := range servers {
			if s.GlobalAccount().Interest(subject) != want {
				return false
			}
		}
		return true
	})
}

// dial connects to urls the way the tests' brokers do: NoEcho, reconnecting
// forever and fast, in the order given.
func dial(t testing.TB, urls string, opts ...nats.Option) *nats.Conn {
	t.Helper()
	all := append([]nats.Option{
		nats.NoEcho(),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(20 * time.Millisecond),
		nats.ReconnectJitter(0, 0),
		nats.DontRandomize(),
		nats.Timeout(time.Second),
		// Not nats.go's default, which prints to stderr.
		nats.ErrorHandler(func(*nats.Conn, *nats.Subscription, error) {}),
	}, opts...)
	nc, err := nats.Connect(urls, all...)
	if err != nil {
		t.Fatalf("connect to %s: %v", urls, err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// message is one delivery seen by a recorder.
type message struct {
	topic string
	typ   conn.MessageType
	data  string
}

// recorder is a deliver function that keeps what it is given.
type recorder struct {
	mu   sync.Mutex
	msgs []message
}

func (r *recorder) deliver(topic string, t conn.MessageType, data []byte) {
	r.mu.Lock()
	r.msgs = append(r.msgs, message{topic, t, string(data)})
	r.mu.Unlock()
}

func (r *recorder) get() []message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]message(nil), r.msgs...)
}

func (r *recorder) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.msgs)
}

// waitLen waits until r holds n messages.
func (r *recorder) waitLen(t testing.TB, n int) []message {
	t.Helper()
	waitFor(t, fmt.Sprintf("%d deliveries", n), func() bool { return r.len() >= n })
	return r.get()
}

// startBroker makes a started broker over nc, closed at the end of the
// test.
func startBroker(t testing.TB, nc *nats.Conn, cfg Config, deliver func(string, conn.MessageType, []byte)) *Broker {
	t.Helper()
	b, err := New(nc, cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := b.Start(deliver); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil && err != ErrClosed {
			t.Errorf("Close: %v", err)
		}
	})
	return b
}

// subscribe subscribes b to topic and waits until its subscription is in
// place: b has it and every server sees want subscriptions on its subject.
func subscribe(t testing.TB, b *Broker, topic string, servers []*server.Server, want int) {
	t.Helper()
	if err := b.Subscribe(topic); err != nil {
		t.Fatalf("Subscribe(%q): %v", topic, err)
	}
	subject, _ := b.Subject(topic)
	waitInterest(t, servers, subject, want)
}

// proxy is a TCP proxy on 127.0.0.1 that a test can cut: its connections
// end and new ones are refused until Restore.
type proxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	cut   bool
	conns map[net.Conn]bool
	wg    sync.WaitGroup
}

func newProxy(t testing.TB, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target, conns: make(map[net.Conn]bool)}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

func (p *proxy) URL() string { return "nats://" + p.ln.Addr().String() }

func (p *proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.cut {
			p.mu.Unlock()
			c.Close()
			continue
		}
		up, err := net.DialTimeout("tcp", p.target, time.Second)
		if err != nil {
			p.mu.Unlock()
			c.Close()
			continue
		}
		p.conns[c], p.conns[up] = true, true
		p.wg.Add(2)
		go p.pipe(c, up)
		go p.pipe(up, c)
		p.mu.Unlock()
	}
}

func (p *proxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	io.Copy(dst, src)
	dst.Close()
	src.Close()
}

// Cut ends every proxied connection and refuses new ones.
func (p *proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
}

// Restore accepts connections again.
func (p *proxy) Restore() {
	p.mu.Lock()
	p.cut = false
	p.mu.Unlock()
}

func (p *proxy) close() {
	p.ln.Close()
	p.Cut()
	p.wg.Wait()
}

// urls joins servers' client URLs for nats.Connect.
func urls(servers ...*server.Server) string {
	var u []string
	for _, s := range servers {
		u = append(u, s.ClientURL())
	}
	return strings.Join(u, ",")
}

package engine_test

import (
	"fmt"
	"io"
	"net"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/volley-ws/volley/conn"
	"github.com/volley-ws/volley/engine"
	"github.com/volley-ws/volley/internal/wsclient"
	"github.com/volley-ws/volley/upgrade"
)

// Server.Stats against known traffic: what each test sends is counted by
// hand into the Stats it expects, and Stats must come to equal it (the
// counts of a blocking session's sends arrive with the ticker's scan, so
// the tests poll, with a deadline).

const (
	sxEchoPath   = "/echo"   // blocking echo
	sxEventsPath = "/events" // event echo
	sxSubPath    = "/sub"    // event route: OnOpen subscribes to sxTopic
	sxFloodPath  = "/flood"  // event route: a message makes it send until the queue is full
	sxDenyPath   = "/deny"   // blocking route: refuses handshakes with 403
	sxTopic      = "news"
	sxFloodSize  = 1000
)

// sxFlood answers any message with sxFloodSize-byte messages until Send
// reports a full queue, and reports how many it queued.
type sxFlood struct{ sent chan<- int }

func (sxFlood) OnOpen(*engine.Conn)         {}
func (sxFlood) OnClose(*engine.Conn, error) {}
func (f sxFlood) OnMessage(c *engine.Conn, _ conn.MessageType, _ []byte) {
	p := make([]byte, sxFloodSize)
	n := 0
	for c.Send(conn.Binary, p) == nil {
		n++
	}
	f.sent <- n
}

// sxSub subscribes each connection to sxTopic.
type sxSub struct{}

func (sxSub) OnOpen(c *engine.Conn) {
	if err := c.Subscribe(sxTopic); err != nil {
		panic(err)
	}
}
func (sxSub) OnMessage(*engine.Conn, conn.MessageType, []byte) {}
func (sxSub) OnClose(*engine.Conn, error)                      {}

// sxEcho is a blocking echo handler.
func sxEcho(ctx *upgrade.Context) {
	ws, err := ctx.Upgrader().Upgrade()
	if err != nil {
		return
	}
	for {
		msg, err := ws.Receive()
		if err != nil || msg.Type == conn.Close {
			return // the engine answers the peer's close with its code
		}
		if ws.Send(msg.Type, msg.Data) != nil {
			return
		}
	}
}

// sxStart starts a server with the test routes.
func sxStart(t *testing.T, cfg engine.Config, flood chan<- int) *icServer {
	t.Helper()
	return icStart(t, cfg, func(srv *engine.Server) {
		srv.HandleFunc(sxEchoPath, sxEcho)
		srv.HandleFunc(sxDenyPath, func(ctx *upgrade.Context) { ctx.SetStatusCode(403) })
		srv.HandleEvents(sxEventsPath, icEventEcho{closed: make(chan icCloseInfo, 16)})
		srv.HandleEvents(sxSubPath, sxSub{})
		srv.HandleEvents(sxFloodPath, sxFlood{sent: flood})
	})
}

// sxWait polls srv.Stats until check returns "", failing the test with
// check's last answer after a deadline.
func sxWait(t *testing.T, srv *engine.Server, check func(engine.Stats) string) engine.Stats {
	t.Helper()
	deadline := time.Now().Add(3 * icTimeout)
	for {
		st := srv.Stats()
		diff := check(st)
		if diff == "" {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("Stats did not come to what was sent:\n%s", diff)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// sxEqual returns "" when got equals want, ignoring Buffered (a level the
// budget moves on its own) and Broker; otherwise the two, field by field.
func sxEqual(got, want engine.Stats) string {
	got.Buffered, want.Buffered = 0, 0
	got.Broker, want.Broker = engine.BrokerStats{}, engine.BrokerStats{}
	if reflect.DeepEqual(got, want) {
		return ""
	}
	var b strings.Builder
	gv, wv := reflect.ValueOf(got), reflect.ValueOf(want)
	for i := range gv.NumField() {
		if g, w := gv.Field(i).Interface(), wv.Field(i).Interface(); !reflect.DeepEqual(g, w) {
			fmt.Fprintf(&b, "%s: got %+v, want %+v\n", gv.Type().Field(i).Name, g, w)
		}
	}
	return b.String()
}

// sxExchange sends the test's mix on c (texts and binaries of known sizes,
// a fragmented text, two pings), reads the echoes, and returns what it
// sent: counts and payload bytes.
func sxExchange(t *testing.T, c *wsclient.Conn) (text, binary, bytes uint64) {
	t.Helper()
	var sent [][]byte
	for _, n := range []int{1, 125, 126, 3000} {
		p := []byte(strings.Repeat("t", n))
		if err := c.Send(wsclient.Text, p); err != nil {
			t.Fatal(err)
		}
		sent, text, bytes = append(sent, p), text+1, bytes+uint64(n)
	}
	for _, n := range []int{7, 1000, 20000} {
		p := icPayload(conn.Binary, n, int64(n))
		if err := c.Send(wsclient.Binary, p); err != nil {
			t.Fatal(err)
		}
		sent, binary, bytes = append(sent, p), binary+1, bytes+uint64(n)
	}
	if err := c.SendFrame(wsclient.Text, []byte("frag"), false); err != nil {
		t.Fatal(err)
	}
	if err := c.SendFrame(wsclient.Text, []byte("ment"), true); err != nil {
		t.Fatal(err)
	}
	sent, text, bytes = append(sent, []byte("fragment")), text+1, bytes+8
	for range 2 {
		if err := c.SendPing([]byte("hi")); err != nil {
			t.Fatal(err)
		}
	}
	for i, want := range sent {
		if _, got, err := icReceive(t, c); err != nil || string(got) != string(want) {
			t.Fatalf("echo %d: %d bytes, %v; want %d bytes", i, len(got), err, len(want))
		}
	}
	return text, binary, bytes
}

// sxRawRequest sends req on a new TCP connection and returns the
// response's status line.
func sxRawRequest(t *testing.T, addr, req string) string {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, icTimeout)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(icTimeout))
	if _, err := io.WriteString(nc, req); err != nil {
		t.Fatal(err)
	}
	resp, _ := io.ReadAll(nc) // the server closes after a refusal
	line, _, _ := strings.Cut(string(resp), "\r\n")
	return line
}

// TestStatsCounts drives known traffic through both APIs, topics, refused
// handshakes, closes of every kind and a full send queue, and checks that
// Stats counts exactly that.
func TestStatsCounts(t *testing.T) {
	flood := make(chan int, 1)
	cfg := engine.Config{EventLoops: 2, MaxUnsentBytes: 64 << 10}
	cfg.Upgrade.Compression.Enabled = true
	s := sxStart(t, cfg, flood)
	srv := s.srv

	want := srv.Stats()
	if want.Accepted != 0 || len(want.Routes) != 5 || want.Routes[sxEventsPath] != (engine.RouteStats{Events: true}) {
		t.Fatalf("a new server's Stats: %+v", want)
	}
	msgs := func(m *engine.MessageStats, text, binary, bytes uint64) {
		m.Text, m.Binary, m.Bytes = m.Text+text, m.Binary+binary, m.Bytes+bytes
	}
	route := func(path string, n uint64) {
		r := want.Routes[path]
		r.Upgraded += n
		want.Routes[path] = r
	}
	closed := func(code uint16, n uint64) {
		want.ClosesSent[code] += n
		want.ClosesReceived[code] += n
		want.Sent.Close += n
		want.Received.Close += n
	}

	// Both APIs: the mix, then a close with 1000 (event) and 4001
	// (blocking, counted as 4000); the server echoes the code.
	for _, tc := range []struct {
		path string
		code int
	}{{sxEventsPath, 1000}, {sxEchoPath, 4001}} {
		c := icDial(t, s.url(tc.path))
		text, binary, bytes := sxExchange(t, c)
		if err := c.Close(tc.code, ""); err != nil {
			t.Fatalf("%s: close: %v", tc.path, err)
		}
		msgs(&want.Received, text, binary, bytes)
		msgs(&want.Sent, text, binary, bytes)
		want.Received.Ping += 2
		want.Sent.Pong += 2
		route(tc.path, 1)
		closed(sxBucket(tc.code), 1)
		want.Accepted++
	}

	// A compressed message: bytes count inflated, and before compressing.
	c, _ := icDialWith(t, s.url(sxEventsPath), &wsclient.Options{Compression: true})
	if !c.Compression() {
		t.Fatal("permessage-deflate not negotiated")
	}
	zipped := []byte(strings.Repeat("compressible ", 100))
	if err := c.Send(wsclient.Text, zipped); err != nil {
		t.Fatal(err)
	}
	if _, got, err := icReceive(t, c); err != nil || string(got) != string(zipped) {
		t.Fatalf("compressed echo: %v", err)
	}
	if err := c.Close(1000, ""); err != nil {
		t.Fatal(err)
	}
	msgs(&want.Received, 1, 0, uint64(len(zipped)))
	msgs(&want.Sent, 1, 0, uint64(len(zipped)))
	route(sxEventsPath, 1)
	closed(1000, 1)
	want.Accepted++

	// Peers that drop the TCP connection after a message: 1006 received.
	for _, path := range []string{sxEventsPath, sxEchoPath} {
		c := icDial(t, s.url(path))
		if err := c.Send(wsclient.Binary, make([]byte, 10)); err != nil {
			t.Fatal(err)
		}
		if _, _, err := icReceive(t, c); err != nil {
			t.Fatal(err)
		}
		c.CloseNow()
		msgs(&want.Received, 0, 1, 10)
		msgs(&want.Sent, 0, 1, 10)
		route(path, 1)
		want.ClosesReceived[1006]++
		want.Accepted++
	}

	// A publish to K subscribers: K messages sent.
	const k = 3
	subs := make([]*wsclient.Conn, k)
	for i := range subs {
		subs[i] = icDial(t, s.url(sxSubPath))
	}
	sxWait(t, srv, func(st engine.Stats) string {
		if st.Topics.Subscriptions != k {
			return fmt.Sprintf("%d subscriptions, want %d", st.Topics.Subscriptions, k)
		}
		return ""
	})
	news := []byte("forty bytes of news, give or take a few.")
	if err := srv.Publish(sxTopic, conn.Text, news); err != nil {
		t.Fatal(err)
	}
	for _, c := range subs {
		if _, got, err := icReceive(t, c); err != nil || string(got) != string(news) {
			t.Fatalf("subscriber: %q, %v", got, err)
		}
		if err := c.Close(1000, ""); err != nil {
			t.Fatal(err)
		}
	}
	msgs(&want.Sent, k, 0, k*uint64(len(news)))
	route(sxSubPath, k)
	closed(1000, k)
	want.Accepted += k
	want.Topics.Publishes, want.Topics.Deliveries = 1, k

	// A full send queue: the handler sends until refused, once.
	c = icDial(t, s.url(sxFloodPath))
	if err := c.Send(wsclient.Text, []byte("go")); err != nil {
		t.Fatal(err)
	}
	n := icRecv(t, flood, icTimeout, "the flood")
	for i := range n {
		if _, _, err := icReceive(t, c); err != nil {
			t.Fatalf("flood message %d of %d: %v", i, n, err)
		}
	}
	if err := c.Close(1000, ""); err != nil {
		t.Fatal(err)
	}
	msgs(&want.Received, 1, 0, 2)
	msgs(&want.Sent, 0, uint64(n), uint64(n*sxFloodSize))
	want.SendQueueFull++
	route(sxFloodPath, 1)
	closed(1000, 1)
	want.Accepted++

	// Refused handshakes: no route (404), a malformed one (400), and a
	// handler's 403.
	if _, resp, err := wsclient.Dial(t.Context(), s.url("/nowhere"), nil); err == nil || resp == nil || resp.StatusCode != 404 {
		t.Fatalf("no route: %v, %+v", err, resp)
	}
	keyless := "GET " + sxEventsPath + " HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n"
	if line := sxRawRequest(t, s.addr, keyless); !strings.HasPrefix(line, "HTTP/1.1 400 ") {
		t.Fatalf("a handshake without a key: %q", line)
	}
	if _, resp, err := wsclient.Dial(t.Context(), s.url(sxDenyPath), nil); err == nil || resp == nil || resp.StatusCode != 403 {
		t.Fatalf("refusing handler: %v, %+v", err, resp)
	}
	want.Refused = map[int]uint64{404: 1, 400: 1, 403: 1}
	want.Accepted += 3

	sxWait(t, srv, func(got engine.Stats) string { return sxEqual(got, want) })
}

// TestStatsConcurrent sends bursts from several goroutines on both APIs,
// with publishes from others, while Stats is read all along: counters
// never go back, and the difference between the Stats before and after
// is exactly the burst.
func TestStatsConcurrent(t *testing.T) {
	s := sxStart(t, engine.Config{EventLoops: 2}, make(chan int, 1))
	srv := s.srv
	const (
		talkers   = 4
		messages  = 50
		size      = 64
		listeners = 3
		publishes = 20
	)
	subs := make([]*wsclient.Conn, listeners)
	for i := range subs {
		subs[i] = icDial(t, s.url(sxSubPath))
	}
	sxWait(t, srv, func(st engine.Stats) string {
		if st.Topics.Subscriptions != listeners {
			return "subscribers not there yet"
		}
		return ""
	})
	before := srv.Stats()

	stop := make(chan struct{})
	watched := make(chan error, 1)
	go func() { // Stats from another goroutine, all along
		prev := srv.Stats()
		for {
			select {
			case <-stop:
				watched <- nil
				return
			default:
			}
			st := srv.Stats()
			if st.Received.Text < prev.Received.Text || st.Sent.Text < prev.Sent.Text || st.Sent.Bytes < prev.Sent.Bytes || st.Accepted < prev.Accepted {
				watched <- fmt.Errorf("a counter went back: %+v after %+v", st, prev)
				return
			}
			prev = st
		}
	}()

	errs := make(chan error, talkers+2)
	for i := range talkers {
		path := sxEventsPath
		if i%2 == 1 {
			path = sxEchoPath
		}
		c := icDial(t, s.url(path))
		go func() {
			p := make([]byte, size)
			for range messages {
				if err := c.Send(wsclient.Text, p); err != nil {
					errs <- err
					return
				}
				if _, _, err := icReceive(t, c); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	var published atomic.Int64
	for range 2 {
		go func() {
			for range publishes / 2 {
				if err := srv.Publish(sxTopic, conn.Binary, make([]byte, size)); err != nil {
					errs <- err
					return
				}
				published.Add(1)
			}
			errs <- nil
		}()
	}
	for range talkers + 2 {
		if err := icRecv(t, errs, 2*icTimeout, "a burst"); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range subs {
		for range publishes {
			if _, _, err := icReceive(t, c); err != nil {
				t.Fatal(err)
			}
		}
	}
	close(stop)
	if err := icRecv(t, watched, icTimeout, "the watcher"); err != nil {
		t.Fatal(err)
	}

	want := before
	want.Received.Text += talkers * messages
	want.Received.Bytes += talkers * messages * size
	want.Sent.Text += talkers * messages
	want.Sent.Binary += listeners * publishes
	want.Sent.Bytes += (talkers*messages + listeners*publishes) * size
	want.Topics.Publishes += publishes
	want.Topics.Deliveries += listeners * publishes
	want.Accepted += talkers
	want.Connections += talkers
	for i := range talkers {
		path := sxEventsPath
		if i%2 == 1 {
			path = sxEchoPath
		}
		r := want.Routes[path]
		r.Open++
		r.Upgraded++
		want.Routes[path] = r
	}
	sxWait(t, srv, func(got engine.Stats) string { return sxEqual(got, want) })
}

// TestStatsIdleServer: Stats before Start and on a server without
// traffic is all zeros, with every route listed.
func TestStatsIdleServer(t *testing.T) {
	srv := engine.New(engine.Config{})
	srv.HandleFunc("/a", sxEcho)
	srv.HandleEvents("/b", sxSub{})
	st := srv.Stats()
	if st.Accepted != 0 || st.Connections != 0 || len(st.Refused) != 0 || len(st.ClosesSent) != 0 {
		t.Errorf("Stats of a new server: %+v", st)
	}
	if st.Routes["/a"] != (engine.RouteStats{}) || st.Routes["/b"] != (engine.RouteStats{Events: true}) {
		t.Errorf("routes: %+v", st.Routes)
	}
}

// sxBucket returns the code Stats counts close code c as.
func sxBucket(c int) uint16 {
	if c >= 3000 {
		return uint16(c / 1000 * 1000)
	}
	return uint16(c)
}

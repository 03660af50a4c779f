package engine_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/volley-ws/volley/conn"
	"github.com/volley-ws/volley/engine"
	"github.com/volley-ws/volley/internal/wstest"
	"github.com/volley-ws/volley/upgrade"
)

// Topics, tested on real sockets: every subscriber of both APIs receives
// each publish once, in publish order per publisher and after what was
// sent to it before; a connection's own publish skips it; subscriptions
// end with the connection; slow subscribers get the configured policy;
// permessage-deflate subscribers get valid compressed messages.

// tpServer starts a server whose routes subscribe on open: /ev (event
// API) and /bl (blocking) subscribe to the query's topics (t=a&t=b),
// send "hello" first, and publish each received message to the topics
// with the connection's own Publish when the message starts with "!",
// with Server.Publish otherwise. The blocking handler also answers
// "topics?" with its list and "unsub:X" by unsubscribing from X.
func tpServer(t *testing.T, cfg engine.Config) *engine.Server {
	t.Helper()
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.EventLoops == 0 {
		cfg.EventLoops = 2
	}
	srv := engine.New(cfg)
	srv.HandleEvents("/ev", &tpEvents{srv: srv})
	srv.HandleFunc("/bl", func(ctx *upgrade.Context) {
		up := ctx.Upgrader()
		if up == nil {
			ctx.SetStatusCode(400)
			return
		}
		topics := tpTopics(ctx.Request().RawQuery)
		ws, err := up.Upgrade()
		if err != nil {
			return
		}
		for _, tp := range topics {
			if err := ws.Subscribe(tp); err != nil {
				ws.Close(conn.StatusInternalError, err.Error())
				return
			}
		}
		_ = ws.SendText("hello")
		for {
			msg, err := ws.Receive()
			if err != nil {
				return
			}
			tpHandle(srv, topics, msg.Type, msg.Data, ws.Publish, ws.Subscribe, ws.Unsubscribe, ws.Topics, ws.Send)
		}
	})
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return srv
}

// tpHandle is both routes' answer to a message.
func tpHandle(srv *engine.Server, topics []string, typ conn.MessageType, data []byte,
	publish func(string, conn.MessageType, []byte) error, sub, unsub func(string) error,
	list func() []string, send func(conn.MessageType, []byte) error) {
	s := string(data)
	switch {
	case s == "topics?":
		_ = send(conn.Text, []byte(strings.Join(list(), ",")))
	case strings.HasPrefix(s, "unsub:"):
		_ = unsub(s[6:])
		_ = send(conn.Text, []byte("unsubscribed"))
	case strings.HasPrefix(s, "sub:"):
		_ = sub(s[4:])
		_ = send(conn.Text, []byte("subscribed"))
	case strings.HasPrefix(s, "!"):
		for _, tp := range topics {
			_ = publish(tp, typ, data)
		}
	default:
		for _, tp := range topics {
			_ = srv.Publish(tp, typ, data)
		}
	}
}

// tpTopics returns the t parameters of a query, undecoded.
func tpTopics(rawQuery string) []string {
	var ts []string
	for kv := range strings.SplitSeq(rawQuery, "&") {
		if v, ok := strings.CutPrefix(kv, "t="); ok {
			ts = append(ts, v)
		}
	}
	return ts
}

type tpEvents struct {
	srv *engine.Server
}

func (h *tpEvents) OnOpen(c *engine.Conn) {
	topics := tpTopics(c.Request().RawQuery)
	c.SetUserData(topics)
	for _, tp := range topics {
		if err := c.Subscribe(tp); err != nil {
			c.Close(conn.StatusInternalError, err.Error())
			return
		}
	}
	_ = c.SendText("hello")
}

func (h *tpEvents) OnMessage(c *engine.Conn, t conn.MessageType, p []byte) {
	topics, _ := c.UserData().([]string)
	tpHandle(h.srv, topics, t, p, c.Publish, c.Subscribe, c.Unsubscribe, c.Topics, c.Send)
}

func (h *tpEvents) OnClose(*engine.Conn, error) {}

// tpDial connects to path subscribed to topics and reads the "hello" that
// comes before any publish.
func tpDial(t *testing.T, addr, path string, topics ...string) *wstest.Conn {
	t.Helper()
	q := ""
	for i, tp := range topics {
		if i > 0 {
			q += "&"
		}
		q += "t=" + tp
	}
	c := wstest.Dial(t, addr, path+"?"+q)
	_ = c.NetConn().SetReadDeadline(time.Now().Add(10 * time.Second))
	if op, p := c.ReadMessage(); op != wstest.OpText || string(p) != "hello" {
		t.Fatalf("first message %d %q, want hello", op, p)
	}
	return c
}

// tpAwait waits until topic has n subscribers.
func tpAwait(t *testing.T, srv *engine.Server, topic string, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for srv.Subscribers(topic) != n {
		if time.Now().After(deadline) {
			t.Fatalf("topic %q has %d subscribers, want %d", topic, srv.Subscribers(topic), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestTopicsDeliverToAll: subscribers of both APIs, spread over two loops,
// each receive every message of two publishers (Server.Publish from two
// goroutines) exactly once, each publisher's in order; a subscriber of
// another topic receives none.
func TestTopicsDeliverToAll(t *testing.T) {
	srv := tpServer(t, engine.Config{})
	addr := srv.Addr().String()
	var subs []*wstest.Conn
	for i := range 20 {
		path := "/ev"
		if i%2 == 1 {
			path = "/bl"
		}
		subs = append(subs, tpDial(t, addr, path, "news"))
	}
	other := tpDial(t, addr, "/ev", "sport")
	tpAwait(t, srv, "news", 20)
	if got := srv.Topics(); !slices.Equal(got, []string{"news", "sport"}) {
		t.Fatalf("Topics() = %q", got)
	}
	const perPublisher = 500
	var wg sync.WaitGroup
	for p := range 2 {
		wg.Go(func() {
			for i := range perPublisher {
				if err := srv.Publish("news", conn.Binary, fmt.Appendf(nil, "%d:%d", p, i)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	for k, c := range subs {
		next := [2]int{}
		for range 2 * perPublisher {
			op, m := c.ReadMessage()
			var p, i int
			if _, err := fmt.Sscanf(string(m), "%d:%d", &p, &i); err != nil || op != wstest.OpBinary {
				t.Fatalf("subscriber %d: got op %d %q", k, op, m)
			}
			if i != next[p] {
				t.Fatalf("subscriber %d: publisher %d's message %d came when %d was due", k, p, i, next[p])
			}
			next[p]++
		}
	}
	// The other topic's subscriber got nothing: its next frame is the
	// answer to its own question.
	other.WriteFrame(true, 0, wstest.OpText, []byte("topics?"), true)
	if _, p := other.ReadMessage(); string(p) != "sport" {
		t.Fatalf("the subscriber of another topic got %q", p)
	}
	st := srv.TopicStats()
	if st.Topics != 2 || st.Subscriptions != 21 || st.Publishes != 2*perPublisher || st.Deliveries != 20*2*perPublisher {
		t.Errorf("TopicStats %+v", st)
	}
}

// TestTopicsOwnPublishSkipsSelf: a connection's Publish reaches every
// subscriber but itself; Server.Publish reaches it too. Text stays text.
func TestTopicsOwnPublishSkipsSelf(t *testing.T) {
	srv := tpServer(t, engine.Config{})
	addr := srv.Addr().String()
	for _, path := range []string{"/ev", "/bl"} {
		t.Run(path[1:], func(t *testing.T) {
			a := tpDial(t, addr, path, "room"+path)
			b := tpDial(t, addr, "/ev", "room"+path)
			c := tpDial(t, addr, "/bl", "room"+path)
			tpAwait(t, srv, "room"+path, 3)
			a.WriteFrame(true, 0, wstest.OpText, []byte("!from a"), true)
			for _, r := range []*wstest.Conn{b, c} {
				if op, p := r.ReadMessage(); op != wstest.OpText || string(p) != "!from a" {
					t.Fatalf("got %d %q, want the text !from a", op, p)
				}
			}
			// a's next frame is the answer to its question, not its own
			// publish.
			a.WriteFrame(true, 0, wstest.OpText, []byte("topics?"), true)
			if _, p := a.ReadMessage(); string(p) != "room"+path {
				t.Fatalf("the publisher got %q: its own publish came back", p)
			}
			// Sent through Server.Publish, the sender gets it too.
			a.WriteFrame(true, 0, wstest.OpText, []byte("all"), true)
			for _, r := range []*wstest.Conn{a, b, c} {
				if _, p := r.ReadMessage(); string(p) != "all" {
					t.Fatalf("got %q, want all", p)
				}
			}
		})
	}
}

// TestTopicsSubscriptionsEnd: unsubscribing stops delivery, the list of a
// connection's topics follows, and a connection's subscriptions end with
// it, whichever way it ends; the topic leaves the index with its last
// subscriber.
func TestTopicsSubscriptionsEnd(t *testing.T) {
	srv := tpServer(t, engine.Config{CloseTimeout: 200 * time.Millisecond})
	addr := srv.Addr().String()
	for _, path := range []string{"/ev", "/bl"} {
		t.Run(path[1:], func(t *testing.T) {
			x, y := "x"+path, "y"+path
			a := tpDial(t, addr, path, x, y)
			a.WriteFrame(true, 0, wstest.OpText, []byte("topics?"), true)
			if _, p := a.ReadMessage(); string(p) != x+","+y {
				t.Fatalf("topics %q", p)
			}
			a.WriteFrame(true, 0, wstest.OpText, []byte("unsub:"+x), true)
			if _, p := a.ReadMessage(); string(p) != "unsubscribed" {
				t.Fatalf("got %q", p)
			}
			if n := srv.Subscribers(x); n != 0 {
				t.Fatalf("%d subscribers after unsubscribing", n)
			}
			if err := srv.Publish(x, conn.Text, []byte("not for a")); err != nil {
				t.Fatal(err)
			}
			if err := srv.Publish(y, conn.Text, []byte("for a")); err != nil {
				t.Fatal(err)
			}
			if _, p := a.ReadMessage(); string(p) != "for a" {
				t.Fatalf("got %q, want only the message of the topic still subscribed", p)
			}
			// Three ways to end: a clean close, a protocol violation, the
			// TCP connection dropped.
			for _, end := range []func(c *wstest.Conn){
				func(c *wstest.Conn) { c.WriteClose(1000, "") },
				func(c *wstest.Conn) { c.WriteFrame(true, wstest.RSV2, wstest.OpText, []byte("rsv"), true) },
				func(c *wstest.Conn) { c.Close() },
			} {
				c := tpDial(t, addr, path, y)
				tpAwait(t, srv, y, 2)
				end(c)
				tpAwait(t, srv, y, 1)
			}
			a.WriteClose(1000, "")
			tpAwait(t, srv, y, 0)
			if slices.Contains(srv.Topics(), y) {
				t.Fatalf("topic %q still listed after its last subscriber left", y)
			}
		})
	}
}

// TestTopicsSendBeforePublish: what a handler sends to a connection before
// a publish reaches it comes first, for both APIs, also when the publish
// comes from another goroutine right after.
func TestTopicsSendBeforePublish(t *testing.T) {
	srv := tpServer(t, engine.Config{})
	addr := srv.Addr().String()
	for _, path := range []string{"/ev", "/bl"} {
		t.Run(path[1:], func(t *testing.T) {
			c := tpDial(t, addr, path, "order"+path)
			for i := range 200 {
				// The handler answers "sub:" with "subscribed" after
				// subscribing again (idempotent), then this goroutine
				// publishes: the answer precedes the publish.
				c.WriteFrame(true, 0, wstest.OpText, []byte("sub:order"+path), true)
				if _, p := c.ReadMessage(); string(p) != "subscribed" {
					t.Fatalf("round %d: got %q before the answer", i, p)
				}
				if err := srv.Publish("order"+path, conn.Text, []byte("pub")); err != nil {
					t.Fatal(err)
				}
				if _, p := c.ReadMessage(); string(p) != "pub" {
					t.Fatalf("round %d: got %q", i, p)
				}
			}
		})
	}
}

// TestTopicsBadNames: bad topic names and message types get errors that
// say so, from every entry point.
func TestTopicsBadNames(t *testing.T) {
	srv := tpServer(t, engine.Config{})
	for _, name := range []string{"", strings.Repeat("x", engine.MaxTopicLength+1), "bad\xff", "nul\x00"} {
		if err := srv.Publish(name, conn.Text, nil); !errors.Is(err, conn.ErrInvalidTopic) {
			t.Errorf("Publish(%q): %v, want ErrInvalidTopic", name, err)
		}
	}
	if err := srv.Publish("ok", conn.MessageType(9), nil); !errors.Is(err, conn.ErrInvalidMessageType) {
		t.Errorf("Publish with a bad type: %v", err)
	}
	if err := srv.Publish("ok", conn.Text, []byte("\xff")); !errors.Is(err, conn.ErrInvalidUTF8) {
		t.Errorf("Publish with bad text: %v", err)
	}
	if err := srv.Publish(strings.Repeat("é", engine.MaxTopicLength/2), conn.Text, nil); err != nil {
		t.Errorf("Publish to the longest name: %v", err)
	}
	// A connection subscribing to a bad name is closed by the test
	// handlers with the error as its reason.
	for _, path := range []string{"/ev", "/bl"} {
		c := wstest.Dial(t, srv.Addr().String(), path+"?t=")
		_ = c.NetConn().SetReadDeadline(time.Now().Add(5 * time.Second))
		f := c.MustReadFrame()
		if f.Opcode != wstest.OpClose || !strings.Contains(f.CloseReason(), "invalid topic") {
			t.Errorf("%s: subscribing to \"\" gave %v", path, f)
		}
	}
}

// TestTopicsSlowSubscriber: a subscriber that does not read is, by
// default, closed with 1008 once the next message would pass its
// MaxUnsentBytes; with SlowSkip it stays and the messages it missed are
// counted. Either way the publisher is not slowed down, the callback
// hears of it, and a subscriber that reads gets everything.
func TestTopicsSlowSubscriber(t *testing.T) {
	for _, policy := range []engine.SlowSubscriberPolicy{engine.SlowClose, engine.SlowSkip} {
		t.Run(fmt.Sprint(policy), func(t *testing.T) {
			var calls atomic.Int32
			logger, lg := lgLogger(slog.LevelInfo)
			cfg := engine.Config{
				Logger:         logger,
				MaxUnsentBytes: 64 << 10,
				// Time enough for the slow one to read its close frame
				// once the test lets it read.
				CloseTimeout:   30 * time.Second,
				WriteTimeout:   30 * time.Second,
				SlowSubscriber: policy,
				OnSlowSubscriber: func(topic string, remote net.Addr, closed bool) {
					if topic == "feed" && remote != nil && closed == (policy == engine.SlowClose) {
						calls.Add(1)
					}
				},
			}
			srv := tpServer(t, cfg)
			addr := srv.Addr().String()
			slow := tpDial(t, addr, "/ev", "feed")
			fast := tpDial(t, addr, "/bl", "feed")
			tpAwait(t, srv, "feed", 2)
			msg := bytes.Repeat([]byte("f"), 16<<10)
			const n = 2000 // 32 MiB: far past what the kernel and MaxUnsentBytes hold
			var got atomic.Int32
			done := make(chan struct{})
			go func() {
				defer close(done)
				_ = fast.NetConn().SetReadDeadline(time.Now().Add(20 * time.Second))
				for got.Load() < n {
					if _, p := fast.ReadMessage(); len(p) != len(msg) {
						return
					}
					got.Add(1)
				}
			}()
			start := time.Now()
			for i := 0; i < n; i++ {
				if err := srv.Publish("feed", conn.Binary, msg); err != nil {
					t.Fatal(err)
				}
				// A window of two messages for the reader (32 KiB, under
				// its MaxUnsentBytes), none for the one that does not read.
				for got.Load() < int32(i)-2 && time.Since(start) < 20*time.Second {
					time.Sleep(50 * time.Microsecond)
				}
			}
			<-done
			if got.Load() != n {
				t.Fatalf("the reading subscriber got %d of %d", got.Load(), n)
			}
			st := srv.TopicStats()
			switch policy {
			case engine.SlowClose:
				if st.SlowClosed != 1 {
					t.Errorf("SlowClosed %d, want 1", st.SlowClosed)
				}
				// The slow subscriber, reading now, finds the close 1008
				// after what was queued for it, and the subscription is gone.
				_ = slow.NetConn().SetReadDeadline(time.Now().Add(10 * time.Second))
				var last wstest.Frame
				for {
					f, err := slow.ReadFrame()
					if err != nil {
						break
					}
					last = f
					if f.Opcode == wstest.OpClose {
						break
					}
				}
				if last.Opcode != wstest.OpClose || last.CloseCode() != 1008 {
					t.Errorf("the slow subscriber's last frame %v, want close 1008", last)
				}
				tpAwait(t, srv, "feed", 1)
				r := lgAwait(t, lg, "volley: connection closed", "topic", "feed")
				lgCheck(t, r, map[string]any{"level": "INFO", "code": 1008, "route": "/ev", "api": "event", "remote": slow.NetConn().LocalAddr().String()})
			case engine.SlowSkip:
				if st.Skipped == 0 || st.SlowClosed != 0 {
					t.Errorf("Skipped %d SlowClosed %d, want skips and no close", st.Skipped, st.SlowClosed)
				}
				if srv.Subscribers("feed") != 2 {
					t.Errorf("the skipped subscriber left")
				}
			}
			if calls.Load() == 0 {
				t.Error("OnSlowSubscriber was not called")
			}
		})
	}
}

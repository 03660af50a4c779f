package engine_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/volley-ws/volley/conn"
	"github.com/volley-ws/volley/engine"
	"github.com/volley-ws/volley/upgrade"
)

// TestFanoutZeroAllocs: publishing to subscribers of both APIs allocates
// nothing in steady state, anywhere in the process: not one allocation in
// 2,000 publishes of 128 B to 100 subscribers on two loops (200,000
// deliveries). The frame comes from a pool, each loop is woken by its
// doorbell, and each subscriber's outbox buffer from a pool. The clients
// read with fixed buffers. It needs a build without the race detector,
// which .ci/test.sh runs.
func TestFanoutZeroAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's sync.Pool drops items on purpose: allocation counts need a build without -race")
	}
	const subs, size = 100, 128
	srv := engine.New(engine.Config{Addr: "127.0.0.1:0", EventLoops: 2})
	srv.HandleEvents("/ev", faSubscriber{})
	srv.HandleFunc("/bl", func(ctx *upgrade.Context) {
		ws, err := ctx.Upgrader().Upgrade()
		if err != nil || ws.Subscribe("z") != nil {
			return
		}
		_, _ = ws.Receive()
	})
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}()
	frame := 4 + size     // a 2-byte extended length from 126 bytes on
	var read atomic.Int64 // frames read by all clients
	var wg sync.WaitGroup
	var conns []net.Conn
	for i := range subs {
		path := "/ev"
		if i%2 == 1 {
			path = "/bl"
		}
		c := faDial(t, srv.Addr().String(), path)
		conns = append(conns, c)
		wg.Go(func() {
			buf := make([]byte, 64*frame)
			for {
				n, err := io.ReadFull(c, buf)
				read.Add(int64(n / frame))
				if err != nil {
					return
				}
			}
		})
	}
	defer func() {
		for _, c := range conns {
			c.Close()
		}
		wg.Wait()
	}()
	deadline := time.Now().Add(10 * time.Second)
	for srv.Subscribers("z") != subs && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	payload := []byte(strings.Repeat("p", size))
	published := int64(0)
	publish := func(n int) {
		for range n {
			if err := srv.Publish("z", conn.Binary, payload); err != nil {
				t.Fatal(err)
			}
			published++
			// A window, so that no subscriber passes MaxUnsentBytes.
			for read.Load() < (published-64)*subs {
				runtime.Gosched()
			}
		}
		// Every frame read, in whole reads of 64.
		for read.Load() < published*subs && time.Now().Before(deadline.Add(20*time.Second)) {
			runtime.Gosched()
		}
	}
	publish(64 * 40) // warm the pools; a multiple of the readers' 64 frames
	const rounds = 64 * 32
	for {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		publish(rounds)
		runtime.ReadMemStats(&after)
		n := after.Mallocs - before.Mallocs
		if n == 0 {
			return
		}
		if time.Now().After(deadline.Add(20 * time.Second)) {
			t.Fatalf("%d allocations in %d publishes to %d subscribers", n, rounds, subs)
		}
	}
}

type faSubscriber struct{}

func (faSubscriber) OnOpen(c *engine.Conn)                            { _ = c.Subscribe("z") }
func (faSubscriber) OnMessage(*engine.Conn, conn.MessageType, []byte) {}
func (faSubscriber) OnClose(*engine.Conn, error)                      {}

// faDial performs a handshake by hand and returns the raw connection,
// positioned at the first frame.
func faDial(t testing.TB, addr, path string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", path)
	// Read the response byte by byte, so nothing after it is buffered.
	var head []byte
	b := make([]byte, 1)
	for !strings.HasSuffix(string(head), "\r\n\r\n") {
		if _, err := c.Read(b); err != nil {
			t.Fatal(err)
		}
		head = append(head, b[0])
	}
	if line, _ := bufio.NewReader(strings.NewReader(string(head))).ReadString('\n'); !strings.Contains(line, " 101 ") {
		t.Fatalf("handshake: %q", head)
	}
	return c
}

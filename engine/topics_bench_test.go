package engine_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/volley-ws/volley/conn"
	"github.com/volley-ws/volley/engine"
)

// tbOpened hands the benchmark every event connection as it opens.
type tbOpened chan *engine.Conn

func (o tbOpened) OnOpen(c *engine.Conn)                          { o <- c }
func (tbOpened) OnMessage(*engine.Conn, conn.MessageType, []byte) {}
func (tbOpened) OnClose(*engine.Conn, error)                      {}

// tbConns starts a server and opens n event connections to it.
func tbConns(b *testing.B, n int) []*engine.Conn {
	b.Helper()
	opened := make(tbOpened, n)
	srv := engine.New(engine.Config{Addr: "127.0.0.1:0", EventLoops: 2})
	srv.HandleEvents("/", opened)
	if err := srv.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	conns := make([]*engine.Conn, n)
	for i := range conns {
		nc := faDial(b, srv.Addr().String(), "/")
		b.Cleanup(func() { nc.Close() })
		conns[i] = <-opened
	}
	return conns
}

// BenchmarkSubscription measures what a subscription costs: the time of a
// Subscribe and Unsubscribe pair, and (reported as B/subscription) the
// heap that 1,000 connections subscribed to 10 topics each hold beyond the
// same connections without subscriptions.
func BenchmarkSubscription(b *testing.B) {
	const conns, topics = 1000, 10
	cs := tbConns(b, conns)
	names := make([]string, topics)
	for i := range names {
		names[i] = fmt.Sprintf("topic-%d", i)
	}
	heap := func() uint64 {
		runtime.GC()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	before := heap()
	for _, c := range cs {
		for _, name := range names {
			if err := c.Subscribe(name); err != nil {
				b.Fatal(err)
			}
		}
	}
	after := heap()
	per := float64(int64(after)-int64(before)) / (conns * topics)
	for _, c := range cs {
		for _, name := range names {
			_ = c.Unsubscribe(name)
		}
	}
	c := cs[0]
	b.ResetTimer()
	for b.Loop() {
		_ = c.Subscribe("bench")
		_ = c.Unsubscribe("bench")
	}
	b.ReportMetric(per, "B/subscription")
}

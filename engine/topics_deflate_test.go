package engine_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/volley-ws/volley/conn"
	"github.com/volley-ws/volley/engine"
	"github.com/volley-ws/volley/internal/wstest"
	"github.com/volley-ws/volley/upgrade"
)

// TestTopicsDeflate: one topic with subscribers of every kind of
// permessage-deflate: without context takeover at two window sizes (each
// size gets one compressed frame per publish, shared), with context
// takeover (compressed in turn with the connection's own context), and
// without the extension. Every one decompresses every message, large
// ones compressed and small ones (under MinSize) sent plain, in order.
func TestTopicsDeflate(t *testing.T) {
	cfg := engine.Config{}
	cfg.Upgrade.Compression = upgrade.Compression{Enabled: true}
	srv := tpServer(t, cfg)
	addr := srv.Addr().String()
	offers := []string{
		"permessage-deflate; server_no_context_takeover",
		"permessage-deflate; server_no_context_takeover; server_max_window_bits=10",
		"permessage-deflate",
		"",
	}
	type sub struct {
		c *wstest.Conn
		d *wstest.Decompressor
	}
	var subs []sub
	for i, offer := range offers {
		for _, path := range []string{"/ev", "/bl"} {
			var c *wstest.Conn
			var lines []string
			if offer == "" {
				c = wstest.Dial(t, addr, path+"?t=z")
			} else {
				c, lines = wstest.DialExtensions(t, addr, path+"?t=z", offer)
			}
			var d *wstest.Decompressor
			if offer != "" {
				p, err := wstest.ParseDeflateResponse(lines)
				if err != nil {
					t.Fatalf("offer %d: %v", i, err)
				}
				d = wstest.NewServerDecompressor(p)
			}
			_ = c.NetConn().SetReadDeadline(time.Now().Add(10 * time.Second))
			if _, p := c.ReadMessage(); string(p) != "hello" {
				t.Fatalf("got %q", p)
			}
			subs = append(subs, sub{c, d})
		}
	}
	tpAwait(t, srv, "z", len(subs))
	var msgs [][]byte
	for i := range 40 {
		m := fmt.Appendf(nil, "message %d ", i)
		if i%3 != 0 {
			m = bytes.Repeat(m, 100) // compressible, over MinSize
		}
		msgs = append(msgs, m)
		if err := srv.Publish("z", conn.Text, m); err != nil {
			t.Fatal(err)
		}
	}
	for k, s := range subs {
		for i, want := range msgs {
			var got []byte
			var compressed bool
			if s.d == nil {
				_, got = s.c.ReadMessage()
			} else {
				m := s.c.ReadDeflateMessage(s.d)
				got, compressed = m.Payload, m.Compressed
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("subscriber %d (offer %q), message %d: got %q", k, offers[k/2], i, got)
			}
			if s.d != nil && compressed != (len(want) >= engine.DefaultCompressionMinSize) {
				t.Fatalf("subscriber %d, message %d of %d B: compressed %v", k, i, len(want), compressed)
			}
		}
	}
}

// TestTopicsDuringFragmentedSend: a blocking handler that is sending a
// fragmented message (SendFrame) when a publish reaches its connection:
// the publish comes after the message's last fragment, never between its
// fragments (RFC 6455 section 5.4).
func TestTopicsDuringFragmentedSend(t *testing.T) {
	srv := engine.New(engine.Config{Addr: "127.0.0.1:0", EventLoops: 2})
	first := make(chan struct{})
	finish := make(chan struct{})
	srv.HandleFunc("/frag", func(ctx *upgrade.Context) {
		ws, err := ctx.Upgrader().Upgrade()
		if err != nil {
			return
		}
		if ws.Subscribe("frag") != nil {
			return
		}
		for range 3 {
			_ = ws.SendFrame([]byte("part one, "), conn.Text, false)
			first <- struct{}{}
			<-finish
			_ = ws.SendFrame([]byte("part two"), conn.Text, true)
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
	c := wstest.Dial(t, srv.Addr().String(), "/frag")
	_ = c.NetConn().SetReadDeadline(time.Now().Add(10 * time.Second))
	for round := range 3 {
		<-first
		for i := range 3 {
			if err := srv.Publish("frag", conn.Binary, fmt.Appendf(nil, "pub %d.%d", round, i)); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(20 * time.Millisecond) // the loop has the publishes
		finish <- struct{}{}
		f := c.MustReadFrame()
		if f.Opcode != wstest.OpText || f.Fin || string(f.Payload) != "part one, " {
			t.Fatalf("round %d: first frame %v", round, f)
		}
		f = c.MustReadFrame()
		if f.Opcode != wstest.OpContinuation || !f.Fin || string(f.Payload) != "part two" {
			t.Fatalf("round %d: a publish came between the fragments: %v", round, f)
		}
		for i := range 3 {
			f = c.MustReadFrame()
			if f.Opcode != wstest.OpBinary || string(f.Payload) != fmt.Sprintf("pub %d.%d", round, i) {
				t.Fatalf("round %d: got %v, want publish %d", round, f, i)
			}
		}
	}
	c.WriteClose(1000, "")
}

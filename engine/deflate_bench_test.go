package engine_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/volley-ws/volley/codec"
	"github.com/volley-ws/volley/engine"
	"github.com/volley-ws/volley/upgrade"
)

// dbModes are the compression settings the deflate benchmarks compare.
var dbModes = []struct {
	name string
	z    upgrade.Compression
}{
	{"off", upgrade.Compression{}},
	{"no-takeover", upgrade.Compression{Enabled: true}},
	{"takeover", upgrade.Compression{Enabled: true, ContextTakeover: true}},
}

// dbServer starts a one-loop server with compression z and both echo
// routes.
func dbServer(tb testing.TB, z upgrade.Compression, idleRelease time.Duration) *engine.Server {
	tb.Helper()
	cfg := engine.Config{Addr: "127.0.0.1:0", EventLoops: 1}
	cfg.Upgrade.Compression = z
	cfg.Upgrade.Compression.IdleRelease = idleRelease
	srv := engine.New(cfg)
	srv.HandleFunc("/block", ebEcho)
	srv.HandleFunc("/block-request", func(ctx *upgrade.Context) {
		_ = ctx.Header("Host") // the Context parses and keeps the request
		ebEcho(ctx)
	})
	srv.HandleEvents("/event", ebEvents{})
	srv.HandleEvents("/event-nocopy", ebEventsNoCopy{})
	if err := srv.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { srv.Shutdown(context.Background()) })
	return srv
}

// dbClient is a raw client that offers permessage-deflate with
// client_no_context_takeover, so its frames can be built (compressed and
// masked) once and sent again and again; it reads the echoes' frames
// without inflating them and counts their bytes.
type dbClient struct {
	c         net.Conn
	r         *bufio.Reader
	frames    [][]byte // distinct messages, sent in turn
	next      int
	batch     []byte
	n         int
	wireBytes int64 // payload bytes the server sent
}

func dbDial(tb testing.TB, addr, path string, msgs [][]byte, inflight int) *dbClient {
	return dbDialOffer(tb, addr, path, msgs, inflight, "permessage-deflate; client_no_context_takeover", 256<<10)
}

// dbDialOffer is dbDial with the extension offer and the client's read
// buffer size given. The client never refers to earlier messages, which is
// valid with or without client context takeover.
func dbDialOffer(tb testing.TB, addr, path string, msgs [][]byte, inflight int, offer string, rbuf int) *dbClient {
	tb.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Extensions: %s\r\n\r\n", path, addr, offer)
	r := bufio.NewReaderSize(c, rbuf)
	status, err := r.ReadString('\n')
	if err != nil || !strings.Contains(status, " 101 ") {
		tb.Fatalf("handshake: %q %v", status, err)
	}
	deflate := false
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			tb.Fatal(err)
		}
		if line == "\r\n" {
			break
		}
		if strings.HasPrefix(strings.ToLower(line), "sec-websocket-extensions:") {
			deflate = true
		}
	}
	cl := &dbClient{c: c, r: r, n: inflight}
	var d codec.Deflater
	d.Init(codec.NewFlate(1), false, 15)
	for _, msg := range msgs {
		payload, rsv := msg, byte(0)
		if deflate {
			payload, rsv = d.Append(nil, msg, true), 0x40
		}
		cl.frames = append(cl.frames, dbFrame(0x81|rsv, payload))
	}
	return cl
}

// dbFrame builds a masked frame whose first byte (FIN, RSV bits, opcode) is
// b0.
func dbFrame(b0 byte, payload []byte) []byte {
	mask := [4]byte{1, 2, 3, 4}
	frame := []byte{b0}
	switch n := len(payload); {
	case n < 126:
		frame = append(frame, 0x80|byte(n))
	case n < 65536:
		frame = append(frame, 0x80|126, byte(n>>8), byte(n))
	default:
		frame = append(frame, 0x80|127)
		frame = binary.BigEndian.AppendUint64(frame, uint64(n))
	}
	frame = append(frame, mask[:]...)
	for i, b := range payload {
		frame = append(frame, b^mask[i%4])
	}
	return frame
}

func (cl *dbClient) roundTrip(tb testing.TB) {
	cl.batch = cl.batch[:0]
	for range cl.n {
		cl.batch = append(cl.batch, cl.frames[cl.next]...)
		cl.next = (cl.next + 1) % len(cl.frames)
	}
	if _, err := cl.c.Write(cl.batch); err != nil {
		tb.Fatal(err)
	}
	for range cl.n {
		h0, err := cl.r.ReadByte()
		if err != nil {
			tb.Fatal(err)
		}
		h1, _ := cl.r.ReadByte()
		n := int64(h1 & 0x7f)
		switch n {
		case 126:
			b, _ := cl.r.Peek(2)
			n = int64(binary.BigEndian.Uint16(b))
			cl.r.Discard(2)
		case 127:
			b, _ := cl.r.Peek(8)
			n = int64(binary.BigEndian.Uint64(b))
			cl.r.Discard(8)
		}
		if h0&0x0f != 1 {
			tb.Fatalf("unexpected frame %x", h0)
		}
		cl.wireBytes += n
		if _, err := cl.r.Discard(int(n)); err != nil {
			tb.Fatal(err)
		}
	}
}

// dbWords is the vocabulary of the benchmark's chat messages.
var dbWords = strings.Fields("the a standup meeting at in five ten minutes see you soon deploy is done build failed again please review my pull request lunch coffee today tomorrow ok thanks great")

// dbMessages returns distinct chat-like JSON messages of n bytes each,
// enough of them (at least 64 KiB in all) that a 32 KiB compression window
// never holds an exact copy of the next one: what context takeover gains
// here comes from shared structure, not from repeats.
func dbMessages(n int) [][]byte {
	count := max(8, (64<<10)/n+1)
	rng := rand.New(rand.NewPCG(uint64(n), 7))
	msgs := make([][]byte, count)
	for i := range msgs {
		var b bytes.Buffer
		for b.Len() < n {
			fmt.Fprintf(&b, `{"id":%d,"user":"user%d","room":"lobby","text":"`, rng.IntN(1e9), rng.IntN(500))
			for range 4 + rng.IntN(8) {
				b.WriteString(dbWords[rng.IntN(len(dbWords))])
				b.WriteByte(' ')
			}
			fmt.Fprintf(&b, `","ts":%d},`, 1764000000+rng.IntN(1e6))
		}
		msgs[i] = b.Bytes()[:n]
	}
	return msgs
}

// BenchmarkEchoDeflate compares echo throughput and bytes on the wire
// without compression, with permessage-deflate without context takeover
// (pooled compressors) and with it (a compressor per active connection),
// for chat-like JSON messages, through both APIs.
func BenchmarkEchoDeflate(b *testing.B) {
	for _, m := range dbModes {
		srv := dbServer(b, m.z, 0)
		for _, api := range []string{"block", "event"} {
			for _, tc := range []struct{ size, inflight int }{{128, 8}, {1024, 8}, {16 << 10, 4}} {
				b.Run(fmt.Sprintf("%s/%s/%dB/inflight=%d", m.name, api, tc.size, tc.inflight), func(b *testing.B) {
					cl := dbDial(b, srv.Addr().String(), "/"+api, dbMessages(tc.size), tc.inflight)
					cl.roundTrip(b)
					cl.wireBytes = 0
					b.SetBytes(int64(tc.size * tc.inflight))
					b.ReportAllocs()
					b.ResetTimer()
					for b.Loop() {
						cl.roundTrip(b)
					}
					msgs := float64(b.N * tc.inflight)
					b.ReportMetric(msgs/b.Elapsed().Seconds(), "msgs/s")
					b.ReportMetric(float64(cl.wireBytes)/msgs, "wire-B/msg")
				})
			}
		}
	}
}

// BenchmarkIdleMemoryDeflate reports the Go memory each idle WebSocket
// holds with compression negotiated, after every connection exchanged 40
// distinct 1 KiB messages (40 KiB, more than a 32 KiB window, so windows
// kept with context takeover are full): "active" measures right away (with
// context takeover the compressor is still held), "idle" after
// IdleRelease gave it back. The client offers plain permessage-deflate, so
// with context takeover the server also keeps the client's window.
func BenchmarkIdleMemoryDeflate(b *testing.B) {
	const conns = 1000
	msgs := dbMessages(1024)[:40]
	for _, m := range dbModes {
		srv := dbServer(b, m.z, 200*time.Millisecond)
		addr := srv.Addr().String()
		for _, api := range []string{"event", "block"} {
			b.Run(m.name+"/"+api, func(b *testing.B) {
				for b.Loop() {
					cls := make([]*dbClient, 0, conns)
					for range conns {
						cls = append(cls, dbDialOffer(b, addr, "/"+api, msgs, 1, "permessage-deflate", 4096))
					}
					time.Sleep(100 * time.Millisecond)
					heap0, stack0 := idInUse()
					for _, cl := range cls {
						for range len(msgs) {
							cl.roundTrip(b)
						}
					}
					heap1, stack1 := idInUse()
					time.Sleep(500 * time.Millisecond) // past IdleRelease and a ticker scan
					heap2, stack2 := idInUse()
					per := func(h, s uint64) float64 {
						return float64(int64(h)-int64(heap0)+int64(s)-int64(stack0)) / conns
					}
					b.ReportMetric(per(heap1, stack1), "active-B/conn")
					b.ReportMetric(per(heap2, stack2), "idle-B/conn")
					for _, cl := range cls {
						cl.c.Close()
					}
					time.Sleep(200 * time.Millisecond)
				}
			})
		}
	}
}

package engine_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/volley-ws/volley/conn"
	"github.com/volley-ws/volley/engine"
	"github.com/volley-ws/volley/upgrade"
)

// ebEcho is the blocking echo handler used by the benchmarks.
func ebEcho(ctx *upgrade.Context) {
	up := ctx.Upgrader()
	if up == nil {
		ctx.SetStatusCode(http.StatusBadRequest)
		return
	}
	ws, err := up.Upgrade()
	if err != nil {
		return
	}
	for {
		msg, err := ws.Receive()
		if err != nil {
			return
		}
		if msg.Type == conn.Close {
			ws.SendClose(msg.CloseStatus, "")
			return
		}
		if ws.Send(msg.Type, msg.Data) != nil {
			return
		}
	}
}

// ebEvents is the event-API echo used by the benchmarks.
type ebEvents struct{}

func (ebEvents) OnOpen(*engine.Conn) {}
func (ebEvents) OnMessage(c *engine.Conn, t conn.MessageType, p []byte) {
	c.Send(t, p)
}
func (ebEvents) OnClose(*engine.Conn, error) {}

// ebEventsNoCopy is ebEvents with SendNoCopy: from 1 KiB on, the echo is
// written from the server's input buffer.
type ebEventsNoCopy struct{ ebEvents }

func (ebEventsNoCopy) OnMessage(c *engine.Conn, t conn.MessageType, p []byte) {
	c.SendNoCopy(t, p)
}

// ebServer starts a one-loop server with the echo routes: /block,
// /event and /event-nocopy.
func ebServer(tb testing.TB) *engine.Server {
	tb.Helper()
	return dbServer(tb, upgrade.Compression{}, 0)
}

// ebClient is an allocation-free raw client: it sends pre-built masked
// frames and reads the echoes into a fixed buffer.
type ebClient struct {
	c     net.Conn
	r     *bufio.Reader
	frame []byte // one masked frame, repeated inflight times in batch
	batch []byte
	reply []byte
	size  int
}

func ebDial(tb testing.TB, addr, path string, size, inflight int) *ebClient {
	tb.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", path, addr)
	r := bufio.NewReaderSize(c, 256<<10)
	status, err := r.ReadString('\n')
	if err != nil || !strings.Contains(status, " 101 ") {
		tb.Fatalf("handshake: %q %v", status, err)
	}
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			tb.Fatal(err)
		}
		if line == "\r\n" {
			break
		}
	}
	payload := make([]byte, size)
	for i := range payload {
		payload[i] = 'a' + byte(i%26)
	}
	frame := dbFrame(0x82, payload)
	cl := &ebClient{c: c, r: r, frame: frame, size: size, reply: make([]byte, 14+size)}
	for range inflight {
		cl.batch = append(cl.batch, frame...)
	}
	return cl
}

// roundTrip writes one batch and reads as many echoes back.
func (cl *ebClient) roundTrip(tb testing.TB) {
	if _, err := cl.c.Write(cl.batch); err != nil {
		tb.Fatal(err)
	}
	for n := len(cl.batch) / len(cl.frame); n > 0; n-- {
		hdr := 2
		switch {
		case cl.size >= 65536:
			hdr = 10
		case cl.size >= 126:
			hdr = 4
		}
		if _, err := io.ReadFull(cl.r, cl.reply[:hdr+cl.size]); err != nil {
			tb.Fatal(err)
		}
		if cl.reply[0] != 0x82 {
			tb.Fatalf("unexpected frame %x", cl.reply[:hdr])
		}
	}
}

// BenchmarkEcho measures whole round trips through the engine for both
// APIs: a client writes inflight messages at once and reads the echoes.
func BenchmarkEcho(b *testing.B) {
	srv := ebServer(b)
	for _, api := range []string{"block", "event", "event-nocopy"} {
		for _, tc := range []struct{ size, inflight int }{{32, 1}, {128, 8}, {16 << 10, 16}} {
			b.Run(fmt.Sprintf("%s/%dB/inflight=%d", api, tc.size, tc.inflight), func(b *testing.B) {
				cl := ebDial(b, srv.Addr().String(), "/"+api, tc.size, tc.inflight)
				cl.roundTrip(b)
				b.SetBytes(int64(tc.size * tc.inflight))
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					cl.roundTrip(b)
				}
				b.ReportMetric(float64(b.N*tc.inflight)/b.Elapsed().Seconds(), "msgs/s")
			})
		}
	}
}

// TestEchoZeroAllocs checks that a message echoed through either API
// allocates nothing in steady state, anywhere in the process: not one
// allocation in 2,000 round trips (testing.AllocsPerRun would round a
// fraction per round trip down to 0). The event API's SendNoCopy too, with
// messages large enough to be written from the input buffer. It needs a
// build without the race detector, which .ci/test.sh runs.
func TestEchoZeroAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's sync.Pool drops items on purpose: allocation counts need a build without -race")
	}
	srv := ebServer(t)
	for _, tc := range []struct {
		api            string
		size, inflight int
	}{{"block", 128, 4}, {"block", 16 << 10, 4}, {"event", 128, 4}, {"event", 16 << 10, 4}, {"event-nocopy", 128, 4}, {"event-nocopy", 16 << 10, 4}} {
		t.Run(fmt.Sprintf("%s/%dB", tc.api, tc.size), func(t *testing.T) {
			cl := ebDial(t, srv.Addr().String(), "/"+tc.api, tc.size, tc.inflight)
			for range 2000 { // warm the pools
				cl.roundTrip(t)
			}
			const rounds = 2000
			deadline := time.Now().Add(10 * time.Second)
			for {
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				for range rounds {
					cl.roundTrip(t)
				}
				runtime.ReadMemStats(&after)
				n := after.Mallocs - before.Mallocs
				if n == 0 {
					return
				}
				if time.Now().After(deadline) {
					t.Fatalf("%s echo of %d B: %d allocations in %d round trips of %d messages", tc.api, tc.size, n, rounds, tc.inflight)
				}
			}
		})
	}
}

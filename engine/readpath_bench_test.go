package engine

import (
	"fmt"
	"testing"

	"github.com/volley-ws/volley/conn"
	"github.com/volley-ws/volley/internal/wstest"
)

// rpEcho echoes each message from the callback, as cmd/volley -api event.
type rpEcho struct{}

func (rpEcho) OnOpen(*Conn) {}
func (rpEcho) OnMessage(c *Conn, t conn.MessageType, p []byte) {
	if err := c.Send(t, p); err != nil {
		panic(err)
	}
}
func (rpEcho) OnClose(*Conn, error) {}

// BenchmarkEventReadPath measures the event loop's own work for one read,
// with no socket: n masked binary frames, already in the input buffer, are
// parsed, unmasked, delivered to an echoing OnMessage and queued as
// replies, and the reply buffer is taken as flush takes it. It is the
// user-space part of the echo that the load benchmarks (bench/) measure
// with the kernel's; the rows are the shapes of scenarios a, b and c (a
// read of b carries about nine messages). ns/msg is per message.
func BenchmarkEventReadPath(b *testing.B) {
	for _, tc := range []struct{ n, size int }{{1, 32}, {9, 128}, {1, 16 << 10}} {
		b.Run(fmt.Sprintf("%dx%dB", tc.n, tc.size), func(b *testing.B) {
			s := New(Config{})
			s.HandleEvents("/echo", rpEcho{})
			c := &connection{srv: s, handler: 1}
			c.flags.setPhase(phaseWS)
			c.out.scheduled = true // as during OnTraffic: no wake-ups
			payload := make([]byte, tc.size)
			var frames []byte
			for range tc.n {
				frames = wstest.AppendFrame(frames, true, 0, 2, payload, true)
			}
			data := make([]byte, len(frames))
			b.ReportAllocs()
			b.SetBytes(int64(tc.n * tc.size))
			for b.Loop() {
				copy(data, frames) // unmasking works in place
				if n := c.readEventFrames(data); n != len(data) {
					b.Fatalf("consumed %d of %d bytes", n, len(data))
				}
				o := &c.out
				o.mu.Lock()
				buf := o.buf
				o.buf = nil
				o.mu.Unlock()
				s.pool.Put(buf)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*tc.n), "ns/msg")
		})
	}
}

package engine

import (
	"fmt"
	"testing"

	"github.com/volley-ws/volley/conn"
	"github.com/volley-ws/volley/internal/wstest"
)

// rpEcho echoes each message from the callback with Send.
type rpEcho struct{}

func (rpEcho) OnOpen(*Conn) {}
func (rpEcho) OnMessage(c *Conn, t conn.MessageType, p []byte) {
	if err := c.Send(t, p); err != nil {
		panic(err)
	}
}
func (rpEcho) OnClose(*Conn, error) {}

// rpEchoNoCopy echoes with SendNoCopy, as cmd/volley -api event.
type rpEchoNoCopy struct{ rpEcho }

func (rpEchoNoCopy) OnMessage(c *Conn, t conn.MessageType, p []byte) {
	if err := c.SendNoCopy(t, p); err != nil {
		panic(err)
	}
}

// BenchmarkEventReadPath measures the event loop's own work for one read,
// with no socket: n masked binary frames, already in the input buffer, are
// parsed, unmasked, delivered to an echoing OnMessage and queued as
// replies, and the reply buffer is taken as flush takes it. It is the
// user-space part of the echo that the load benchmarks (bench/) measure
// with the kernel's; the rows are the shapes of scenarios a, b and c (a
// read of b carries about nine messages), echoed with Send and with
// SendNoCopy (which leaves the payload of c's 16 KiB messages where it is,
// for the flush's writev, not measured here). ns/msg is per message.
func BenchmarkEventReadPath(b *testing.B) {
	for _, tc := range []struct {
		n, size int
		h       EventHandler
		name    string
	}{
		{1, 32, rpEcho{}, "send"}, {9, 128, rpEcho{}, "send"}, {1, 16 << 10, rpEcho{}, "send"},
		{9, 128, rpEchoNoCopy{}, "nocopy"}, {1, 16 << 10, rpEchoNoCopy{}, "nocopy"},
	} {
		b.Run(fmt.Sprintf("%s/%dx%dB", tc.name, tc.n, tc.size), func(b *testing.B) {
			s := New(Config{})
			s.HandleEvents("/echo", tc.h)
			c := &connection{srv: s, handler: 1}
			c.flags.setPhase(phaseWS)
			c.out.flags |= scheduled // as during OnTraffic: no wake-ups
			c.signals.setState(conn.StateOpen)
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
				o := &c.out
				o.mu.Lock()
				o.buffer(&s.sends).setInput(data) // as traffic does
				o.mu.Unlock()
				if n := c.readEventFrames(data); n != len(data) {
					b.Fatalf("consumed %d of %d bytes", n, len(data))
				}
				o.mu.Lock()
				buf := o.buf
				o.buf = nil
				o.mu.Unlock()
				s.sends.put(buf)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*tc.n), "ns/msg")
		})
	}
}

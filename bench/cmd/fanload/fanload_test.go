package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/volley-ws/volley/bench/internal/hist"
	"github.com/volley-ws/volley/bench/internal/wsframe"
)

// serverFrame builds an unmasked server frame.
func serverFrame(fin bool, op byte, p []byte) []byte {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	out := []byte{b0}
	switch n := len(p); {
	case n <= 125:
		out = append(out, byte(n))
	case n <= 0xFFFF:
		out = append(out, 126)
		out = binary.BigEndian.AppendUint16(out, uint16(n))
	default:
		out = append(out, 127)
		out = binary.BigEndian.AppendUint64(out, uint64(n))
	}
	return append(out, p...)
}

// relay turns the masked client frames c queued into the server frames
// the fan-out server sends every subscriber, and empties c's output.
func relay(t *testing.T, c *fconn) []byte {
	t.Helper()
	var out []byte
	b := c.out
	for len(b) > 0 {
		if b[0]&0x80 == 0 || b[1]&0x80 == 0 {
			t.Fatalf("client frame not final or not masked: % x", b[:2])
		}
		n, h := int(b[1]&0x7F), 2
		if n == 126 {
			n, h = int(binary.BigEndian.Uint16(b[2:])), 4
		}
		mask := b[h : h+4]
		p := make([]byte, n)
		for i := range n {
			p[i] = b[h+4+i] ^ mask[i&3]
		}
		out = append(out, serverFrame(true, b[0]&0x0F, p)...)
		b = b[h+4+n:]
	}
	c.out = c.out[:0]
	return out
}

// feedChunks feeds in to c in pieces of at most k bytes, keeping what feed
// did not use as the event loop does.
func feedChunks(c *fconn, in []byte, k int, now int64, ph int32, tl *tally) error {
	var carry []byte
	for len(in) > 0 {
		n := min(k, len(in))
		buf := append(carry, in[:n]...)
		in = in[n:]
		used, err := c.feed(buf, now, ph, tl)
		if err != nil {
			return err
		}
		carry = append([]byte(nil), buf[used:]...)
	}
	if len(carry) != 0 {
		return errors.New("bytes left over")
	}
	return nil
}

func TestHeadRoundTrip(t *testing.T) {
	p := pattern(7, 40)
	putHead(p, 7, 1<<40+12345, 987654321012, [4]byte{})
	if !utf8.Valid(p) || bytes.IndexByte(p, 0) >= 0 && bytes.IndexByte(p, 0) < headChars {
		t.Fatalf("head not ASCII: %q", p)
	}
	pub, seq, at, err := parseHead(p)
	if err != nil || pub != 7 || seq != 1<<40+12345 || at != 987654321012 {
		t.Fatalf("got %d %d %d %v", pub, seq, at, err)
	}
	// masked in place: unmasking gives the same head
	mask := [4]byte{0x11, 0x22, 0x33, 0x44}
	q := pattern(7, 40)
	putHead(q, 7, 1<<40+12345, 987654321012, mask)
	for i := range headChars {
		q[i] ^= mask[i&3]
	}
	if !bytes.Equal(p, q) {
		t.Fatalf("masked head differs:\n%q\n%q", p, q)
	}
	p[5] = '!'
	if _, _, _, err := parseHead(p); err == nil {
		t.Fatal("a byte outside the alphabet was accepted")
	}
	if _, _, _, err := parseHead(p[:headChars-1]); err == nil {
		t.Fatal("a short head was accepted")
	}
}

// TestFanout runs two publishers and a subscriber through the protocol:
// windows filled, acknowledgements refill them, every split of the input
// parses to the same deliveries.
func TestFanout(t *testing.T) {
	for _, op := range []byte{wsframe.OpBinary, wsframe.OpText} {
		pl := newPlan(2, 200, op, 3, 0)
		p0 := newConn(0, pl, [4]byte{1, 2, 3, 4})
		p1 := newConn(1, pl, [4]byte{5, 6, 7, 8})
		sub := newConn(2, pl, [4]byte{9, 9, 9, 9})
		p0.makePublisher(0)
		p1.makePublisher(1)
		var tl tally
		p0.refill(10, &tl)
		p1.refill(10, &tl)
		if tl.published != 6 || p0.pub.outstanding() != 3 {
			t.Fatalf("published %d, outstanding %d", tl.published, p0.pub.outstanding())
		}
		// the server's order: interleaved publishers
		f0, f1 := relay(t, p0), relay(t, p1)
		in := append(append([]byte(nil), f0...), f1...)
		for k := 1; k <= len(in); k += 37 {
			sc := newConn(3, pl, [4]byte{1, 1, 1, 1})
			var st tally
			if err := feedChunks(sc, in, k, 1010, phaseMeasure, &st); err != nil {
				t.Fatalf("chunks of %d: %v", k, err)
			}
			if st.deliveries != 6 || st.measured != 6 || st.order != 0 || st.corrupt != 0 || st.hist.Count() != 6 {
				t.Fatalf("chunks of %d: %+v", k, st)
			}
			if st.hist.Max() != 1000 {
				t.Fatalf("latency %d, want 1000", st.hist.Max())
			}
		}
		if err := feedChunks(sub, in, len(in), 20, phaseWarmup, &tl); err != nil {
			t.Fatal(err)
		}
		if sub.missing([]uint64{3, 3}) != 0 || sub.missing([]uint64{5, 3}) != 2 {
			t.Fatalf("missing %d", sub.missing([]uint64{5, 3}))
		}
		// publisher 0 gets its own three copies back: three more publishes
		if err := feedChunks(p0, f0, 50, 30, phaseWarmup, &tl); err != nil {
			t.Fatal(err)
		}
		if p0.pub.sent != 6 || p0.pub.acked != 3 || len(p0.out) == 0 {
			t.Fatalf("sent %d acked %d", p0.pub.sent, p0.pub.acked)
		}
		// after the measured interval an acknowledgement publishes nothing
		more := relay(t, p0)
		if err := feedChunks(p0, more, len(more), 40, phaseDrain, &tl); err != nil {
			t.Fatal(err)
		}
		if p0.pub.sent != 6 || p0.pub.acked != 6 || len(p0.out) != 0 {
			t.Fatalf("draining: sent %d acked %d, %d bytes queued", p0.pub.sent, p0.pub.acked, len(p0.out))
		}
	}
}

// delivery is the server frame of publisher pub's message seq.
func delivery(pl *plan, pub int, seq uint64) []byte {
	p := bytes.Clone(pl.patterns[pub])
	putHead(p, pub, seq, 0, [4]byte{})
	return serverFrame(true, pl.opcode, p)
}

func TestOrderAndCorruption(t *testing.T) {
	pl := newPlan(2, 64, wsframe.OpBinary, 1, 0)
	cases := []struct {
		name                      string
		in                        func() []byte
		order, gaps, corrupt, del uint64
	}{
		{"in order", func() []byte {
			return append(append(delivery(pl, 0, 0), delivery(pl, 1, 0)...), delivery(pl, 0, 1)...)
		}, 0, 0, 0, 3},
		{"gap", func() []byte { return append(delivery(pl, 0, 0), delivery(pl, 0, 3)...) }, 1, 2, 0, 2},
		{"repeat", func() []byte { return append(delivery(pl, 0, 0), delivery(pl, 0, 0)...) }, 1, 0, 0, 2},
		{"overtaken", func() []byte { return append(delivery(pl, 0, 1), delivery(pl, 0, 0)...) }, 2, 1, 0, 2},
		{"other publisher's pattern", func() []byte {
			p := bytes.Clone(pl.patterns[1])
			putHead(p, 0, 0, 0, [4]byte{})
			return serverFrame(true, wsframe.OpBinary, p)
		}, 0, 0, 1, 0},
		{"unknown publisher", func() []byte {
			p := bytes.Clone(pl.patterns[1])
			putHead(p, 2, 0, 0, [4]byte{})
			return serverFrame(true, wsframe.OpBinary, p)
		}, 0, 0, 1, 0},
		{"wrong type", func() []byte {
			f := delivery(pl, 0, 0)
			f[0] = 0x80 | wsframe.OpText
			return f
		}, 0, 0, 1, 0},
		{"short", func() []byte { return serverFrame(true, wsframe.OpBinary, delivery(pl, 0, 0)[2:40]) }, 0, 0, 1, 0},
		{"fragmented, with a ping inside", func() []byte {
			f := delivery(pl, 1, 0)[2:]
			out := serverFrame(false, wsframe.OpBinary, f[:10])
			out = append(out, serverFrame(true, wsframe.OpPing, []byte("hi"))...)
			out = append(out, serverFrame(false, wsframe.OpContinuation, f[10:30])...)
			return append(out, serverFrame(true, wsframe.OpContinuation, f[30:])...)
		}, 0, 0, 0, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newConn(0, pl, [4]byte{1, 2, 3, 4})
			var tl tally
			if err := feedChunks(c, tc.in(), 7, 0, phaseWarmup, &tl); err != nil {
				t.Fatal(err)
			}
			if tl.order != tc.order || tl.gaps != tc.gaps || tl.corrupt != tc.corrupt || tl.deliveries != tc.del {
				t.Fatalf("order %d gaps %d corrupt %d deliveries %d", tl.order, tl.gaps, tl.corrupt, tl.deliveries)
			}
		})
	}
}

func TestControlFramesAndErrors(t *testing.T) {
	pl := newPlan(1, 64, wsframe.OpBinary, 1, 0)
	c := newConn(0, pl, [4]byte{1, 2, 3, 4})
	var tl tally
	if _, err := c.feed(serverFrame(true, wsframe.OpPing, []byte("abc")), 0, phaseWarmup, &tl); err != nil {
		t.Fatal(err)
	}
	pong := relay(t, c)
	if !bytes.Equal(pong, serverFrame(true, wsframe.OpPong, []byte("abc"))) {
		t.Fatalf("pong % x", pong)
	}
	_, err := c.feed(serverFrame(true, wsframe.OpClose, []byte{0x03, 0xE9, 'b', 'y', 'e'}), 0, phaseClose, &tl)
	if !errors.Is(err, errServerClosed) || !strings.Contains(err.Error(), "1001") {
		t.Fatalf("close: %v", err)
	}
	bad := map[string][]byte{
		"masked":            {0x82, 0x81, 1, 2, 3, 4, 5},
		"rsv":               {0xC2, 0x00},
		"too long":          serverFrame(true, wsframe.OpBinary, make([]byte, 65)),
		"64-bit length":     {0x82, 127, 0, 0, 0, 1, 0, 0, 0, 0},
		"long control":      serverFrame(true, wsframe.OpPing, make([]byte, 126)),
		"lone continuation": serverFrame(true, wsframe.OpContinuation, []byte("x")),
		"reserved opcode":   serverFrame(true, 0x3, nil),
	}
	for name, in := range bad {
		if _, err := newConn(0, pl, [4]byte{}).feed(in, 0, phaseWarmup, &tl); err == nil || errors.Is(err, errServerClosed) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestFixedRate: a publisher at a fixed rate publishes what is due, stamped
// with the time it was due, and no more than its window.
func TestFixedRate(t *testing.T) {
	pl := newPlan(1, 32, wsframe.OpBinary, 4, 20_000_000) // 50/s
	c := newConn(0, pl, [4]byte{1, 2, 3, 4})
	c.makePublisher(0)
	var tl tally
	c.refill(0, &tl)
	if tl.published != 1 {
		t.Fatalf("at 0: %d published", tl.published)
	}
	c.refill(19_999_999, &tl)
	if tl.published != 1 {
		t.Fatalf("before the next is due: %d published", tl.published)
	}
	c.refill(130_000_000, &tl)             // 6 more due, room for 3
	if tl.published != 4 || tl.late != 3 { // due at 20, 40 and 60 ms: all over 20 ms late
		t.Fatalf("published %d late %d", tl.published, tl.late)
	}
	// the copies come back at 130 ms: the last one was due at 60 ms
	var st tally
	in := relay(t, c)
	if err := feedChunks(newConn(1, pl, [4]byte{}), in, len(in), 130_000_000, phaseMeasure, &st); err != nil {
		t.Fatal(err)
	}
	if st.hist.Max() < 129_000_000 || st.hist.Quantile(0.01) > 72_300_000 { // 70 ms, within the histogram's 3.2%
		t.Fatalf("latencies from %d to %d", st.hist.Quantile(0.01), st.hist.Max())
	}
}

func TestParseFlags(t *testing.T) {
	c, err := parseFlags([]string{"-subs", "10000", "-pubs", "1", "-rate", "50"})
	if err != nil || c.interval() != 20_000_000 || c.loops < 1 {
		t.Fatalf("%+v %v", c, err)
	}
	for _, args := range [][]string{
		{"-addr", "10.0.0.1:80"},
		{"-addr", "example.com:80"},
		{"-subs", "2", "-pubs", "3"},
		{"-size", "8"},
		{"-type", "json"},
		{"-rate", "-1"},
		{"-window", "0"},
		{"extra"},
	} {
		if _, err := parseFlags(args); err == nil {
			t.Errorf("%q accepted", args)
		}
	}
}

func TestReport(t *testing.T) {
	res := func(d float64, p99 float64) *result {
		return &result{Subs: 1000, Pubs: 1, Window: 16, Size: 128, Type: "binary", DeliveriesPerSec: d,
			LatUS: &hist.Latencies{P50: 1000, P99: p99, Max: p99}, RSSIdle: 10 << 20, RSSMax: 12 << 20}
	}
	runs := []runLine{
		{Scenario: "f1", Server: "volley-event", Round: 1, Cap: "0.5", ServerAlive: true, Result: res(1e6, 2000)},
		{Scenario: "f1", Server: "gws", Round: 1, Cap: "0.5", ServerAlive: true, Result: res(1e5, 90000)},
		{Scenario: "f1", Server: "volley-event", Round: 2, Cap: "0.5", ServerAlive: true, Result: res(2e6, 2000)},
		{Scenario: "f1", Server: "gws", Round: 2, Cap: "0.5", ServerAlive: true, Result: res(1e5, 90000)},
		{Scenario: "f1", Server: "gorilla", Round: 1, Cap: "0.5", RC: -1},
	}
	var b strings.Builder
	writeReport(&b, runs, "volley-event", 10, true)
	out := b.String()
	for _, want := range []string{
		"Scenario f1: 1000 subscribers, 1 publisher × window 16, 128 B binary (server capped at 0.5 core)",
		"| volley-event | 1500000 | 1000000–2000000 | 1.00× (1.00, 1.00) | 1.00 / 2.00 / 2.00 |",
		"| gws | 100000 | 100000–100000 | 0.07× (0.10, 0.05) | 1.00 / 90 / 90 |",
		"10.0 → 12.0 (2.0)",
		"| gorilla | – |",
		"1 (1 failed)",
		"| f1-gws-2 | 0 | 100000 | 90 |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}

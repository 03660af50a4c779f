package codec

import (
	"bytes"
	stdflate "compress/flate"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/volley-ws/volley/internal/wstest"
)

// jsonish returns n bytes of compressible chat-like JSON.
func jsonish(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	var b bytes.Buffer
	for b.Len() < n {
		fmt.Fprintf(&b, `{"user":"u%d","room":"lobby","text":"message number %d","ts":%d},`, r.IntN(50), r.IntN(1000), 1700000000+r.IntN(100000))
	}
	return b.Bytes()[:n]
}

// stdInflate decompresses one message with the standard library, with
// history as the preset dictionary.
func stdInflate(t *testing.T, msg, history []byte) []byte {
	t.Helper()
	data := append(append([]byte{}, msg...), 0, 0, 0xff, 0xff)
	r := stdflate.NewReaderDict(bytes.NewReader(data), history)
	out, err := io.ReadAll(r)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("stdlib inflate: %v", err)
	}
	return out
}

func TestDeflateRoundTrip(t *testing.T) {
	f := NewFlate(1)
	sizes := []int{0, 1, 16, 125, 126, 1000, 4096, 65535, 65536, 131072}
	for _, takeover := range []bool{false, true} {
		for _, bits := range []int{15, 9, 12} {
			t.Run(fmt.Sprintf("takeover=%v/bits=%d", takeover, bits), func(t *testing.T) {
				var d Deflater
				var in Inflater
				d.Init(f, takeover, bits)
				in.Init(f, takeover && bits == 15, bits)
				var history []byte // what a stdlib receiver would keep
				for i, n := range sizes {
					msg := jsonish(n, uint64(i))
					if i%3 == 2 {
						msg = bytes.Repeat([]byte{'x'}, n) // highly compressible
					}
					z := d.Append(nil, msg, true)
					if n > 1000 && i%3 != 2 && len(z) > n/2 {
						t.Errorf("%d bytes compressed to %d", n, len(z))
					}
					got, err := in.Inflate(nil, z, 1<<20)
					if err != nil || !bytes.Equal(got, msg) {
						t.Fatalf("message %d (%d bytes): %v, got %d bytes", i, n, err, len(got))
					}
					var dict []byte
					if d.takeover {
						dict = history
					}
					if std := stdInflate(t, z, dict); !bytes.Equal(std, msg) {
						t.Fatalf("message %d: stdlib inflates %d bytes, want %d", i, len(std), n)
					}
					history = append(history, msg...)
					if len(history) > 1<<15 {
						history = history[len(history)-1<<15:]
					}
					if i%4 == 3 {
						d.Release()
					}
				}
				if !takeover && (d.Holding() || d.HeldBytes() != 0 || in.HeldBytes() != 0) {
					t.Errorf("no context takeover holds %v/%d/%d", d.Holding(), d.HeldBytes(), in.HeldBytes())
				}
				d.Release()
				if takeover && bits == 15 && (d.HeldBytes() > 1<<15 || in.HeldBytes() > 1<<15) {
					t.Errorf("idle windows hold %d and %d bytes", d.HeldBytes(), in.HeldBytes())
				}
			})
		}
	}
}

// TestDeflateFragments compresses one message in several parts, as
// SendFrame does, and checks that the parts joined inflate to the message.
func TestDeflateFragments(t *testing.T) {
	f := NewFlate(6)
	for _, takeover := range []bool{false, true} {
		var d Deflater
		var in Inflater
		d.Init(f, takeover, 15)
		in.Init(f, takeover, 15)
		for round := range 3 {
			msg := jsonish(50000, uint64(round))
			var z []byte
			parts := [][]byte{msg[:0], msg[:100], msg[100:30000], msg[30000:], nil}
			for i, p := range parts {
				z = d.Append(z, p, i == len(parts)-1)
				if i < len(parts)-1 && !d.InMessage() {
					t.Fatal("not in a message after a non-final part")
				}
			}
			if d.Release() != takeover {
				t.Errorf("Release after the message: want %v", takeover)
			}
			got, err := in.Inflate(nil, z, 0)
			if err != nil || !bytes.Equal(got, msg) {
				t.Fatalf("takeover=%v round %d: %v", takeover, round, err)
			}
		}
	}
}

func TestInflateStdlibSender(t *testing.T) {
	f := NewFlate(1)
	var in Inflater
	in.Init(f, true, 15)
	var buf bytes.Buffer
	w, _ := stdflate.NewWriter(&buf, 6)
	for i := range 20 {
		msg := jsonish(100+i*997, uint64(i))
		start := buf.Len()
		w.Write(msg)
		w.Flush()
		z := buf.Bytes()[start : buf.Len()-4]
		got, err := in.Inflate(nil, z, 0)
		if err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("message %d: %v", i, err)
		}
	}
}

// TestInflateSenderFinalBlock: a message may end with a final block of its
// own (RFC 7692 section 7.2.3.3), here made by closing the writer.
func TestInflateSenderFinalBlock(t *testing.T) {
	var in Inflater
	in.Init(NewFlate(1), false, 15)
	msg := jsonish(3000, 7)
	var buf bytes.Buffer
	w, _ := stdflate.NewWriter(&buf, 5)
	w.Write(msg)
	w.Close()
	got, err := in.Inflate(nil, buf.Bytes(), 0)
	if err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("final block: %v", err)
	}
	// Data after the final block is not one message.
	_, err = in.Inflate(nil, append(buf.Bytes(), 0x01, 0x02, 0x03), 0)
	if err != ErrBadDeflate {
		t.Fatalf("trailing data: %v, want ErrBadDeflate", err)
	}
}

func TestInflateBomb(t *testing.T) {
	f := NewFlate(9)
	var d Deflater
	d.Init(f, false, 15)
	bomb := d.Append(nil, make([]byte, 16<<20), true) // 16 MiB of zeros
	if len(bomb) > 64<<10 {
		t.Fatalf("bomb is %d bytes", len(bomb))
	}
	var in Inflater
	in.Init(f, false, 15)
	out, err := in.Inflate(nil, bomb, 1<<20)
	if err != ErrMessageTooBig {
		t.Fatalf("err %v, want ErrMessageTooBig", err)
	}
	if cap(out) > 2<<20 {
		t.Errorf("inflated into %d bytes of buffer for a 1 MiB limit", cap(out))
	}
	// Exactly at the limit is fine.
	msg := make([]byte, 1<<20)
	var in2 Inflater
	in2.Init(f, false, 15)
	if out, err := in2.Inflate(nil, d.Append(nil, msg, true), 1<<20); err != nil || len(out) != len(msg) {
		t.Fatalf("message at the limit: %v (%d bytes)", err, len(out))
	}
}

func TestInflateBadData(t *testing.T) {
	valid, bad := wstest.UndeclaredDistance()
	cases := map[string][]byte{
		"reserved block type": {0xff, 0xff, 0xff},
		"bad stored length":   {0x00, 0x05, 0x00, 0x00, 0x00},
		"garbage":             []byte(strings.Repeat("\x7fnot deflate", 10)),
		// A block without distance codes that writes a back-reference with
		// the code of the block before it (RFC 1951 section 3.2.7).
		"distance code not declared": append(append(bytes.Clone(valid), 0x00, 0x00, 0xff, 0xff), bad...),
		"no distance codes":          bad,
	}
	for name, z := range cases {
		var in Inflater
		in.Init(NewFlate(1), false, 15)
		if _, err := in.Inflate(nil, z, 1<<20); err != ErrBadDeflate {
			t.Errorf("%s: %v, want ErrBadDeflate", name, err)
		}
	}
}

// TestInflateNoStaleCodes: a decompressor from the pool decodes with the
// codes of the message in hand only, never with those a previous message
// declared — on the same connection, or on another one sharing the Flate.
// A block that declares no distance codes yet uses one fails.
func TestInflateNoStaleCodes(t *testing.T) {
	valid, bad := wstest.UndeclaredDistance()
	for _, takeover := range []bool{false, true} {
		f := NewFlate(1)
		var a, b Inflater
		a.Init(f, takeover, 15)
		b.Init(f, takeover, 15)
		out, err := a.Inflate(nil, valid, 0)
		if err != nil || string(out) != "aaaa" {
			t.Fatalf("takeover %v: valid message: %q %v", takeover, out, err)
		}
		if out, err := b.Inflate(nil, bad, 0); err != ErrBadDeflate {
			t.Errorf("takeover %v: another connection: %q %v, want ErrBadDeflate", takeover, out, err)
		}
		if out, err := a.Inflate(nil, bad, 0); err != ErrBadDeflate {
			t.Errorf("takeover %v: the same connection: %q %v, want ErrBadDeflate", takeover, out, err)
		}
	}
}

func TestWindow(t *testing.T) {
	t.Run("amortized", func(t *testing.T) { testWindow(t, false) })
	t.Run("exact", func(t *testing.T) { testWindow(t, true) })
}

func testWindow(t *testing.T, exact bool) {
	w := window{size: 8, exact: exact}
	var all []byte
	r := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		p := make([]byte, r.IntN(12))
		for i := range p {
			p[i] = byte(r.IntN(256))
		}
		w.add(p)
		all = append(all, p...)
		want := all[max(0, len(all)-8):]
		if !bytes.Equal(w.bytes(), want) {
			t.Fatalf("window %x, want %x", w.bytes(), want)
		}
		if exact && w.held() > 8 {
			t.Fatalf("exact window holds %d", w.held())
		}
		if r.IntN(10) == 0 {
			w.compact()
			if w.held() > 8 {
				t.Fatalf("compact holds %d", w.held())
			}
		}
	}
}

// TestInflateTakeoverNewDecompressor: with context takeover, a
// decompressor the pool has to create (none to reuse) must still start
// from the kept window.
func TestInflateTakeoverNewDecompressor(t *testing.T) {
	var d Deflater
	var in Inflater
	d.Init(NewFlate(1), true, 15)
	in.Init(NewFlate(1), true, 15)
	for i := range 10 {
		msg := jsonish(3000, 11) // the same message: the second one refers back
		in.f = NewFlate(1)       // an empty pool every time
		got, err := in.Inflate(nil, d.Append(nil, msg, true), 0)
		if err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("message %d: %v", i, err)
		}
	}
}

package codec

import (
	"bytes"
	stdflate "compress/flate"
	"io"
	"testing"
)

// FuzzInflate feeds arbitrary compressed messages to an Inflater: it must
// never panic nor return more than the limit, whatever it accepts the
// standard library's decompressor must decode to the same bytes from the
// same input (the message and the appended tail), and what a Deflater makes
// of the output must round-trip.
func FuzzInflate(f *testing.F) {
	var d Deflater
	d.Init(NewFlate(1), false, 15)
	f.Add(d.Append(nil, []byte("Hello"), true), false)
	f.Add(d.Append(nil, jsonish(3000, 1), true), true)
	f.Add([]byte{0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00}, false) // RFC 7692 7.2.3.3
	f.Add([]byte{0x00, 0x05, 0x00, 0xfa, 0xff, 'H', 'e', 'l', 'l', 'o', 0x00}, false)
	f.Add([]byte{0xff, 0xff, 0xff}, false)
	f.Add(d.Append(nil, make([]byte, 100000), true), false)
	const limit = 64 << 10
	f.Fuzz(func(t *testing.T, msg []byte, takeover bool) {
		var in Inflater
		in.Init(NewFlate(1), takeover, 15)
		out, err := in.Inflate(nil, msg, limit)
		if len(out) > limit+64<<10 {
			t.Fatalf("%d bytes out for a limit of %d", len(out), limit)
		}
		if err == nil {
			if len(out) > limit {
				t.Fatalf("accepted %d bytes over a limit of %d", len(out), limit)
			}
			data := append(append([]byte{}, msg...), inflateTail[:]...)
			ref, rerr := io.ReadAll(io.LimitReader(stdflate.NewReader(bytes.NewReader(data)), limit+1))
			if rerr != nil {
				t.Fatalf("accepted what the standard library rejects (%v)", rerr)
			}
			if !bytes.Equal(ref, out) {
				t.Fatalf("inflated %d bytes, the standard library %d", len(out), len(ref))
			}
			// Compressing the output again must round-trip.
			var d2 Deflater
			d2.Init(NewFlate(1), false, 15)
			back, err := in.Inflate(nil, d2.Append(nil, out, true), limit)
			if takeover {
				return // the window now holds out: the second message is still valid, but not checked here
			}
			if err != nil || !bytes.Equal(back, out) {
				t.Fatalf("round trip: %v", err)
			}
		}
	})
}

package codec

import (
	"bytes"
	"testing"

	"github.com/volley-ws/volley/internal/wstest"
)

// FuzzInflate feeds arbitrary compressed messages to an Inflater and holds
// it to an independent decoder, the tests' own (wstest.Inflate, which
// checks code sets as zlib does): the Inflater must never panic nor return
// more than the limit; it must accept exactly the messages that decoder
// decodes within the limit, to the same bytes; and what a Deflater makes
// of the output must round-trip. A message is accepted when its data with
// the appended tail decodes up to a final block that ends in the tail, at
// the message's end, or one 0x00 before it (RFC 7692 section 7.2.3.3).
func FuzzInflate(f *testing.F) {
	var d Deflater
	d.Init(NewFlate(1), false, 15)
	f.Add(d.Append(nil, []byte("Hello"), true), false)
	f.Add(d.Append(nil, jsonish(3000, 1), true), true)
	f.Add([]byte{0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00}, false) // RFC 7692 7.2.3.3
	f.Add([]byte{0x00, 0x05, 0x00, 0xfa, 0xff, 'H', 'e', 'l', 'l', 'o', 0x00}, false)
	f.Add([]byte{0xff, 0xff, 0xff}, false)
	f.Add(d.Append(nil, make([]byte, 100000), true), false)
	valid, bad := wstest.UndeclaredDistance()
	f.Add(append(append(bytes.Clone(valid), 0x00, 0x00, 0xff, 0xff), bad...), false)
	const limit = 64 << 10
	f.Fuzz(func(t *testing.T, msg []byte, takeover bool) {
		var in Inflater
		in.Init(NewFlate(1), takeover, 15)
		out, err := in.Inflate(nil, msg, limit)
		if len(out) > limit+64<<10 {
			t.Fatalf("%d bytes out for a limit of %d", len(out), limit)
		}
		if err == ErrMessageTooBig {
			return
		}
		if err != nil && err != ErrBadDeflate {
			t.Fatalf("error %v", err)
		}
		ref, rerr := wstest.Inflate(nil, append(bytes.Clone(msg), inflateTail[:]...))
		rest := len(ref.Rest) - len(inflateTail) // bytes of msg after the final block
		refOK := rerr == nil && ref.Final && (rest <= 0 || rest == 1 && msg[len(msg)-1] == 0)
		if refOK && len(ref.Out) > limit {
			return // the reference has no limit
		}
		switch {
		case err == nil && !refOK:
			t.Fatalf("accepted what the reference rejects (%v, final %v, %d bytes left)", rerr, ref.Final, rest)
		case err != nil && refOK:
			t.Fatalf("rejected what the reference decodes to %d bytes", len(ref.Out))
		case err != nil:
			return
		case !bytes.Equal(ref.Out, out):
			t.Fatalf("inflated %d bytes, the reference %d", len(out), len(ref.Out))
		}
		if len(out) > limit {
			t.Fatalf("accepted %d bytes over a limit of %d", len(out), limit)
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
	})
}

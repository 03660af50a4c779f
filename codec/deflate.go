package codec

import (
	"github.com/klauspost/compress/flate"
)

// deflateTail is the empty stored block that ends every sync flush. RFC
// 7692 section 7.2.1 removes it from the end of a compressed message; the
// receiver appends it back.
var deflateTail = [4]byte{0x00, 0x00, 0xff, 0xff}

// Deflater compresses the messages one endpoint sends on a
// permessage-deflate connection (RFC 7692 section 7.2.1).
//
// Without context takeover every message is compressed on its own with a
// compressor borrowed from the Flate for the duration of that message, so
// an idle connection holds nothing. With context takeover the compressor
// is kept between messages; Release gives it back while keeping only the
// last window of sent bytes (at most 1<<bits), from which the next message
// primes a borrowed compressor.
//
// A Deflater is not safe for concurrent use: its owner serializes calls
// (the frames of one connection are written in order anyway). The zero
// value is not usable; call Init.
type Deflater struct {
	f        *Flate
	w        *flate.Writer // held: a message in progress, or context takeover
	sink     appender
	hist     window // context takeover: the last bytes sent
	bits     int
	takeover bool
	inMsg    bool
}

// Init prepares d for a connection: f supplies the compressors, takeover
// keeps the compression context between messages, bits (8 to 15) is the
// negotiated server_max_window_bits. A window smaller than 15 bits is only
// supported without context takeover; Init then turns takeover off.
func (d *Deflater) Init(f *Flate, takeover bool, bits int) {
	if bits < 8 || bits > 15 {
		bits = 15
	}
	*d = Deflater{f: f, bits: bits, takeover: takeover && bits == 15}
	if d.takeover {
		d.hist.size = 1 << bits
	}
}

// Append compresses p, the next bytes of the message being sent, and
// appends the compressed bytes to dst. fin ends the message: its output
// then lacks the final 0x00 0x00 0xff 0xff, as RFC 7692 requires, and the
// compressor is given back unless context takeover keeps it. The frames
// that carry the output of one message form one compressed message: the
// first has RSV1 set.
//
// The returned slice is dst (grown as needed); p is not retained.
func (d *Deflater) Append(dst, p []byte, fin bool) []byte {
	if d.w == nil {
		var dict []byte
		if d.takeover {
			dict = d.hist.bytes()
		}
		d.w = d.f.getWriter(d.bits, &d.sink, dict)
	}
	d.inMsg = !fin
	start := len(dst)
	d.sink.b = dst
	if len(p) > 0 {
		_, _ = d.w.Write(p) // appender never fails
	}
	_ = d.w.Flush()
	dst = d.sink.b
	d.sink.b = nil
	if d.takeover {
		d.hist.add(p)
	}
	if fin {
		if n := len(dst) - start; n >= 4 && [4]byte(dst[len(dst)-4:]) == deflateTail {
			dst = dst[:len(dst)-4]
		}
		if !d.takeover {
			d.f.putWriter(d.bits, d.w)
			d.w = nil
		}
	}
	return dst
}

// Release gives the compressor back to the Flate between messages. With
// context takeover the window is kept (and trimmed to at most 1<<bits
// bytes) so the next message continues the same context. It does nothing
// while a message is in progress or when no compressor is held, and
// reports whether it released one.
func (d *Deflater) Release() bool {
	if d.w == nil || d.inMsg {
		return false
	}
	d.f.putWriter(d.bits, d.w)
	d.w = nil
	d.hist.compact()
	return true
}

// Close releases everything d holds, the window included. d must be
// Init-ed again before further use.
func (d *Deflater) Close() {
	if d.w != nil {
		d.f.putWriter(d.bits, d.w)
	}
	*d = Deflater{}
}

// Holding reports whether d holds a compressor.
func (d *Deflater) Holding() bool { return d.w != nil }

// InMessage reports whether a message is half sent.
func (d *Deflater) InMessage() bool { return d.inMsg }

// HeldBytes returns the bytes of window memory d keeps between messages
// (compressors are pooled and counted apart).
func (d *Deflater) HeldBytes() int { return d.hist.held() }

// appender is an io.Writer that appends to b.
type appender struct{ b []byte }

func (a *appender) Write(p []byte) (int, error) {
	a.b = append(a.b, p...)
	return len(p), nil
}

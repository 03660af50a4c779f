package codec

import (
	stdflate "compress/flate"
	"errors"
	"io"

	"github.com/volley-ws/volley/conn"
)

// ErrBadDeflate reports a compressed message whose data is not valid
// DEFLATE (RFC 7692 section 7.2.2). Its close code is 1007 (invalid frame
// payload data).
var ErrBadDeflate = &conn.CloseError{Code: conn.StatusInvalidPayloadData, Reason: "invalid compressed data"}

// inflateTail is appended to every compressed message before inflating
// it: the empty stored block the sender removed (RFC 7692 section 7.2.2),
// then an empty final stored block so the decompressor ends cleanly.
var inflateTail = [9]byte{0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff}

// Inflater decompresses the messages one endpoint receives on a
// permessage-deflate connection. It borrows a decompressor from the Flate
// for each message; with context takeover it keeps the last window of
// received bytes (1<<bits) between messages, and nothing otherwise.
//
// An Inflater is not safe for concurrent use. The zero value is not
// usable; call Init.
type Inflater struct {
	f    *Flate
	hist window
	src  twoReader
}

// Init prepares i for a connection: f supplies the decompressors,
// takeover says whether the peer keeps its compression context between
// messages, and bits (8 to 15) is the window the peer compresses with.
func (i *Inflater) Init(f *Flate, takeover bool, bits int) {
	if bits < 9 || bits > 15 {
		// zlib compresses with a 512-byte window when asked for 256.
		bits = max(9, min(bits, 15))
	}
	*i = Inflater{f: f}
	if takeover {
		// The decompressor copies the window in per message anyway, so the
		// window is kept at its exact size: no slack to trim when idle.
		i.hist = window{size: 1 << bits, exact: true}
	}
}

// Inflate decompresses msg, the payload of one whole compressed message
// (its frames joined), and appends the result to dst. It stops and
// returns ErrMessageTooBig as soon as the output passes limit bytes (a
// limit <= 0 means none), so a decompression bomb costs at most limit
// bytes plus one read; it returns ErrBadDeflate for data that does not
// decompress. After an error the Inflater must not be used again: the
// connection is failed.
//
// The returned slice is dst, grown as needed; msg is not retained.
func (i *Inflater) Inflate(dst, msg []byte, limit int64) ([]byte, error) {
	i.src = twoReader{a: msg, b: inflateTail[:]}
	var dict []byte
	if i.hist.size > 0 {
		dict = i.hist.bytes()
	}
	r := i.f.getReader(&i.src, dict)
	start := len(dst)
	var err error
	for {
		if len(dst) == cap(dst) {
			n := max(2*len(msg), 512, cap(dst)-start)
			if limit > 0 {
				n = int(min(int64(n), limit+1-int64(len(dst)-start)))
				n = max(n, 1)
			}
			dst = append(dst[:cap(dst)], make([]byte, n)...)[:len(dst)]
		}
		var n int
		n, err = r.Read(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+n]
		if limit > 0 && int64(len(dst)-start) > limit {
			err = ErrMessageTooBig
			break
		}
		if err != nil {
			break
		}
	}
	i.f.putReader(r)
	// A final block of the sender's own may end the message (RFC 7692
	// section 7.2.3.3): the decompressor then stops before the appended
	// tail, or inside it when the sender removed the last four bytes of its
	// stream. What may follow the final block within the message is
	// nothing, or the lone 0x00 that starts an empty stored block (the
	// RFC's own example ends so).
	msgLeft := 0
	if i.src.b != nil {
		msgLeft = len(i.src.a)
	}
	i.src = twoReader{}
	switch {
	case err == ErrMessageTooBig:
		return dst, err
	case !errors.Is(err, io.EOF):
		return dst, ErrBadDeflate
	case msgLeft > 1 || msgLeft == 1 && msg[len(msg)-1] != 0:
		// Data after a final block: not one message.
		return dst, ErrBadDeflate
	}
	if i.hist.size > 0 {
		i.hist.add(dst[start:])
	}
	return dst, nil
}

// Close releases the window. i must be Init-ed again before further use.
func (i *Inflater) Close() { *i = Inflater{} }

// HeldBytes returns the bytes of window memory i keeps between messages.
func (i *Inflater) HeldBytes() int { return i.hist.held() }

// twoReader reads a, then b. It implements io.ByteReader so the
// decompressor reads it directly, without a bufio.Reader of its own.
type twoReader struct{ a, b []byte }

func (t *twoReader) Read(p []byte) (int, error) {
	if len(t.a) == 0 {
		t.a, t.b = t.b, nil
		if len(t.a) == 0 {
			return 0, io.EOF
		}
	}
	n := copy(p, t.a)
	t.a = t.a[n:]
	return n, nil
}

func (t *twoReader) ReadByte() (byte, error) {
	if len(t.a) == 0 {
		t.a, t.b = t.b, nil
		if len(t.a) == 0 {
			return 0, io.EOF
		}
	}
	c := t.a[0]
	t.a = t.a[1:]
	return c, nil
}

var _ stdflate.Reader = (*twoReader)(nil)

package codec

import (
	stdflate "compress/flate"
	"io"
	"sync"

	"github.com/klauspost/compress/flate"
)

// Flate holds the compressors and decompressors that the connections of
// one server share for permessage-deflate (RFC 7692). Compressors are
// large (tens of kilobytes of hash tables each), so connections take them
// from here for as long as they need them and give them back.
//
// The compressors are github.com/klauspost/compress/flate's, two times
// faster than the standard library's at level 1 (BENCHMARKS.md gives the
// measurements). The decompressors are the standard library's: klauspost's
// keeps a block's Huffman tables when the next block declares an empty set
// of codes, and so decodes a back-reference that block may not contain
// with codes of an earlier block, even of another connection's message,
// where RFC 1951 data is invalid and the message must fail with 1007.
//
// A Flate is safe for concurrent use. Create it with NewFlate.
type Flate struct {
	level   int
	writers sync.Pool // *flate.Writer at level, window 32 KiB
	small   [15]sync.Pool
	readers sync.Pool // flate decompressors (io.ReadCloser + flate.Resetter)
}

// NewFlate returns a pool whose compressors use level (1, fastest, to 9,
// smallest; out-of-range levels mean 1).
func NewFlate(level int) *Flate {
	if level < 1 || level > 9 {
		level = 1
	}
	return &Flate{level: level}
}

// Level returns the compression level.
func (f *Flate) Level() int { return f.level }

// getWriter returns a compressor for a window of 1<<bits bytes, reset to
// write to dst with the preset dictionary dict (nil for none).
func (f *Flate) getWriter(bits int, dst io.Writer, dict []byte) *flate.Writer {
	p := f.pool(bits)
	w, _ := p.Get().(*flate.Writer)
	if w == nil {
		var err error
		if bits >= 15 {
			w, err = flate.NewWriter(dst, f.level)
		} else {
			w, err = flate.NewWriterWindow(dst, 1<<bits)
		}
		if err != nil {
			panic("codec: flate writer: " + err.Error()) // level and size are checked above
		}
	}
	// ResetDict also clears a dictionary left by an earlier user.
	w.ResetDict(dst, dict)
	return w
}

// putWriter returns w, which compresses with a window of 1<<bits bytes.
func (f *Flate) putWriter(bits int, w *flate.Writer) {
	w.ResetDict(nil, nil)
	f.pool(bits).Put(w)
}

func (f *Flate) pool(bits int) *sync.Pool {
	if bits >= 15 || bits < 8 {
		return &f.writers
	}
	return &f.small[bits]
}

// decompressor is what the standard library's flate.NewReader returns.
type decompressor interface {
	io.Reader
	stdflate.Resetter
}

func (f *Flate) getReader(src io.Reader, dict []byte) decompressor {
	r, _ := f.readers.Get().(decompressor)
	if r == nil {
		return stdflate.NewReaderDict(src, dict).(decompressor)
	}
	_ = r.Reset(src, dict) // Reset of the standard library's decompressor never fails
	return r
}

func (f *Flate) putReader(r decompressor) {
	_ = r.Reset(emptyReader{}, nil)
	f.readers.Put(r)
}

type emptyReader struct{}

func (emptyReader) Read([]byte) (int, error) { return 0, io.EOF }
func (emptyReader) ReadByte() (byte, error)  { return 0, io.EOF }

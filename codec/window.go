package codec

// window keeps the last size bytes of a stream: the LZ77 history a
// permessage-deflate endpoint with context takeover must keep between
// messages. Unless exact, it buffers up to twice size so that appending is
// amortized O(len(p)) instead of a memmove of the whole window per message.
type window struct {
	size  int
	exact bool // never hold more than size bytes
	b     []byte
}

// limit is the capacity the window grows to.
func (w *window) limit() int {
	if w.exact {
		return w.size
	}
	return 2 * w.size
}

// add appends p to the history.
func (w *window) add(p []byte) {
	if len(p) >= w.size {
		if cap(w.b) < w.size {
			w.b = make([]byte, 0, w.limit())
		}
		w.b = append(w.b[:0], p[len(p)-w.size:]...)
		return
	}
	if len(w.b)+len(p) > cap(w.b) {
		keep := w.bytes()
		if w.exact {
			keep = keep[max(0, len(keep)+len(p)-w.size):]
		}
		if cap(w.b) < w.limit() {
			nb := make([]byte, len(keep), w.limit())
			copy(nb, keep)
			w.b = nb
		} else {
			w.b = w.b[:copy(w.b, keep)]
		}
	}
	w.b = append(w.b, p...)
}

// bytes returns the last size bytes (fewer at the start of a stream). The
// slice aliases the window and is valid until the next add or compact.
func (w *window) bytes() []byte {
	if len(w.b) > w.size {
		return w.b[len(w.b)-w.size:]
	}
	return w.b
}

// compact drops the slack kept for amortized appends, so an idle
// connection holds at most size bytes.
func (w *window) compact() {
	h := w.bytes()
	if cap(w.b) == len(h) {
		return
	}
	if len(h) == 0 {
		w.b = nil
		return
	}
	nb := make([]byte, len(h))
	copy(nb, h)
	w.b = nb
}

// held returns the bytes of memory the window holds.
func (w *window) held() int { return cap(w.b) }

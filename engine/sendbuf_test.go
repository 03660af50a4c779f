package engine

import (
	"bytes"
	"testing"

	"github.com/volley-ws/volley/conn"
)

// TestSendBufShared: published frames appended by reference come out in
// order with the bytes around them; each holds a reference to its frame
// until the buffer lets go of it (written, flattened or pooled), and the
// last release returns the frame to the pool.
func TestSendBufShared(t *testing.T) {
	var sp sendPool
	f1 := newTestFrame("one")
	f2 := newTestFrame("two")

	b := sp.get()
	b.B = append(b.B, "<a>"...)
	b.appendShared(f1, f1.b)
	b.appendShared(f2, f2.b)
	b.B = append(b.B, "<b>"...)
	b.appendShared(f1, f1.b)
	want := concat([]byte("<a>"), f1.b, f2.b, []byte("<b>"), f1.b)
	if got := b.appendRest(nil, 0); !bytes.Equal(got, want) {
		t.Fatalf("output %q, want %q", got, want)
	}
	if b.size() != len(want) {
		t.Fatalf("size %d, want %d", b.size(), len(want))
	}
	if n1, n2 := f1.refs.Load(), f2.refs.Load(); n1 != 3 || n2 != 2 {
		t.Fatalf("references %d and %d, want 3 and 2 (the publisher's and the buffer's)", n1, n2)
	}

	// A partial write: what is left is copied into B and the frames let go.
	b.discard(&sp, 5)
	if !bytes.Equal(b.B, want[5:]) || len(b.ext) != 0 || len(b.frames) != 0 || b.size() != len(want)-5 {
		t.Fatalf("after discarding 5: B %q (%d extents), want %q", b.B, len(b.ext), want[5:])
	}
	if n1, n2 := f1.refs.Load(), f2.refs.Load(); n1 != 1 || n2 != 1 {
		t.Fatalf("references %d and %d after the copy, want 1 and 1", n1, n2)
	}

	// Pooled with references: they are released, and the last one
	// returns the frame to the pool.
	b.B = b.B[:0]
	b.appendShared(f2, f2.b)
	sp.put(b)
	if n := f2.refs.Load(); n != 1 {
		t.Fatalf("%d references after put, want 1", n)
	}
	f1.release(&sp)
	f2.release(&sp)
	if n1, n2 := f1.refs.Load(), f2.refs.Load(); n1 != 0 || n2 != 0 {
		t.Fatalf("references %d and %d after the last release", n1, n2)
	}
}

// TestSendBufSharedLimit: past maxExtents, frames are copied, and the
// output stays in order.
func TestSendBufSharedLimit(t *testing.T) {
	var sp sendPool
	f := newTestFrame("x")
	b := sp.get()
	var want []byte
	for range maxExtents + 10 {
		b.appendShared(f, f.b)
		want = append(want, f.b...)
	}
	if len(b.ext) != maxExtents || len(b.frames) != maxExtents {
		t.Fatalf("%d extents, %d frames, want %d", len(b.ext), len(b.frames), maxExtents)
	}
	if got := b.appendRest(nil, 0); !bytes.Equal(got, want) {
		t.Fatal("output out of order past maxExtents")
	}
	sp.put(b)
	if n := f.refs.Load(); n != 1 {
		t.Fatalf("%d references after put, want 1", n)
	}
}

// newTestFrame frames payload as a published text message, with its
// publisher's reference.
func newTestFrame(payload string) *pubFrame {
	return (&Server{}).newFrame(conn.Text, []byte(payload))
}

func concat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

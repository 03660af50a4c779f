package engine

import (
	"math"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// sendBuf is an outbox's buffer: the frames to write, in order. Most of
// it is bytes, in B. Two kinds of bytes are not copied into B; an extent
// records where they go, and the flush writes B and them together with
// writev:
//   - a payload sent with Conn.SendNoCopy from a callback, when it lies in
//     the input gnet handed the loop for this OnTraffic (written by the
//     flush at the end of OnTraffic);
//   - a published frame the drain delivers (appendShared), which the
//     buffer holds a reference to until put: a subscriber's backlog is
//     then a list of references to frames every subscriber shares, not a
//     copy of each.
//
// A sendBuf belongs to one outbox at a time and is used under its mu.
type sendBuf struct {
	B []byte
	// inLo and inHi bound the loop's input while the loop is in the
	// connection's OnTraffic (set at its start, for event connections),
	// 0 otherwise. Addresses only: the input outlives the buffer's use.
	inLo, inHi uintptr
	ext        []extent     // payloads written where they are, in order of at
	extBytes   int          // their total length
	frames     []*pubFrame  // the published frames ext references, one reference each
	iov        []unix.Iovec // writev's iovecs when there are more than fit on its stack
	// tally counts the frames in the buffer, for Server.Stats.
	tally tally
}

// extent is a payload written from where it is, p[:n], after B[:at] and
// before B[at:]: 16 bytes, which with its frame's pointer in frames is
// what a delivery waiting in a subscriber's buffer costs (a published
// frame's own bytes are shared).
type extent struct {
	p  *byte
	n  uint32
	at uint32
}

// bytes returns the extent's payload.
func (e extent) bytes() []byte { return unsafe.Slice(e.p, e.n) }

// fitsRef reports whether n, a payload's length or B's before it, fits in
// an extent.
func fitsRef(n int) bool { return uint64(n) <= math.MaxUint32 }

const (
	// noCopyMin is the smallest payload SendNoCopy writes from where it
	// is. Below 512 bytes a copy costs less than the iovec the kernel
	// would walk and the frame header split from its payload; from 512
	// bytes to 4 KiB a flush costs the same either way, and from there
	// referencing wins (BenchmarkSendBufFlush, BENCHMARKS.md). 1 KiB
	// keeps clear of the crossover.
	noCopyMin = 1024
	// maxExtents bounds the payloads one flush references, so that a
	// writev never passes the kernel's 1024 iovecs (IOV_MAX): each extent
	// needs at most two.
	maxExtents = 256
	// maxPooledSend is the largest buffer capacity that goes back to the
	// pool; a larger one, from a burst, is left to the garbage collector.
	maxPooledSend = 1 << 20
)

// size returns the bytes the buffer will write.
func (b *sendBuf) size() int { return len(b.B) + b.extBytes }

// setInput marks in as the loop's input for this OnTraffic.
func (b *sendBuf) setInput(in []byte) {
	if len(in) == 0 {
		return
	}
	b.inLo = uintptr(unsafe.Pointer(&in[0]))
	b.inHi = b.inLo + uintptr(len(in))
}

// inInput reports whether p lies in the input marked by setInput.
func (b *sendBuf) inInput(p []byte) bool {
	if len(p) == 0 || b.inHi == 0 {
		return false
	}
	lo := uintptr(unsafe.Pointer(&p[0]))
	return lo >= b.inLo && lo+uintptr(len(p)) <= b.inHi
}

// canReference reports whether p, the payload of a frame about to be
// appended, may be written from where it is.
func (b *sendBuf) canReference(p []byte) bool {
	return len(p) >= noCopyMin && len(b.ext) < maxExtents && b.inInput(p) && fitsRef(len(p)) && fitsRef(len(b.B))
}

// reference records p as the bytes that follow B's current end; p is not
// empty, and canReference said yes.
func (b *sendBuf) reference(p []byte) {
	b.ext = append(b.ext, extent{p: &p[0], n: uint32(len(p)), at: uint32(len(b.B))})
	b.extBytes += len(p)
}

// appendShared appends frame, the frame of the published message f that
// the subscriber gets (f.b or a compressed variant), as a reference to it
// holding one of f's references; past maxExtents it copies it.
func (b *sendBuf) appendShared(f *pubFrame, frame []byte) {
	if len(b.ext) >= maxExtents || !fitsRef(len(frame)) || !fitsRef(len(b.B)) {
		b.B = append(b.B, frame...)
		return
	}
	f.refs.Add(1)
	b.reference(frame)
	b.frames = append(b.frames, f)
}

// dropRefs forgets the extents and releases the published frames they
// referenced.
func (b *sendBuf) dropRefs(sp *sendPool) {
	clear(b.ext) // SendNoCopy's payloads are gnet's: drop the references
	b.ext = b.ext[:0]
	b.extBytes = 0
	for i, f := range b.frames {
		f.release(sp)
		b.frames[i] = nil
	}
	b.frames = b.frames[:0]
}

// flatten copies what the extents reference into B, in order, so that B
// alone holds the output, and drops the references: for the paths that
// write B only (a partial write's rest, an adopted connection's socket).
func (b *sendBuf) flatten(sp *sendPool) {
	if len(b.ext) == 0 {
		return
	}
	tmp := sp.get()
	tmp.B = b.appendRest(tmp.B, 0)
	b.B, tmp.B = tmp.B, b.B
	sp.put(tmp)
	b.dropRefs(sp)
}

// discard drops the first n bytes of the output, which were written.
func (b *sendBuf) discard(sp *sendPool, n int) {
	if n >= b.size() {
		b.B = b.B[:0]
		b.dropRefs(sp)
		return
	}
	b.flatten(sp)
	b.B = b.B[:copy(b.B, b.B[n:])]
}

// parts yields the buffer's output in order: the pieces of B between
// extents and the extents' payloads, empty ones skipped.
func (b *sendBuf) parts(yield func([]byte) bool) {
	prev := 0
	for _, e := range b.ext {
		at := int(e.at)
		if at > prev && !yield(b.B[prev:at]) {
			return
		}
		if !yield(e.bytes()) {
			return
		}
		prev = at
	}
	if len(b.B) > prev {
		yield(b.B[prev:])
	}
}

// stackIovecs is how many iovecs writev builds on its stack; more go in
// the buffer's own slice.
const stackIovecs = 64

// writev writes the buffer to fd with one writev system call (two
// iovecs per extent at most) and returns how much was written: all of it,
// less when the socket is full, 0 on an error (the caller's fallback
// write through gnet reports it).
func (b *sendBuf) writev(fd int) int {
	if 2*len(b.ext)+1 > stackIovecs {
		b.iov = b.iovecs(b.iov[:0])
		return writevAll(fd, b.iov)
	}
	var onStack [stackIovecs]unix.Iovec // does not escape: writevAll keeps nothing
	return writevAll(fd, b.iovecs(onStack[:0]))
}

// iovecs appends the iovecs of the buffer's parts to iov.
func (b *sendBuf) iovecs(iov []unix.Iovec) []unix.Iovec {
	for p := range b.parts {
		var v unix.Iovec
		v.Base = &p[0]
		v.SetLen(len(p))
		iov = append(iov, v)
	}
	return iov
}

// writevAll makes one writev system call (retried on EINTR) and returns
// what it wrote, 0 on an error.
func writevAll(fd int, iov []unix.Iovec) int {
	if len(iov) == 0 {
		return 0
	}
	for {
		n, _, errno := unix.Syscall(unix.SYS_WRITEV, uintptr(fd), uintptr(unsafe.Pointer(&iov[0])), uintptr(len(iov)))
		switch {
		case errno == unix.EINTR:
			continue
		case errno != 0:
			return 0
		}
		return int(n)
	}
}

// appendRest appends to dst what the buffer holds from byte n of its
// output on, in order.
func (b *sendBuf) appendRest(dst []byte, n int) []byte {
	for p := range b.parts {
		if n >= len(p) {
			n -= len(p)
			continue
		}
		dst = append(dst, p[n:]...)
		n = 0
	}
	return dst
}

// sendPool holds the sendBufs of outboxes between writes, so that an idle
// connection holds none, and the published frames (pubFrame) between
// publishes. The zero value is ready to use.
type sendPool struct {
	p      sync.Pool
	frames sync.Pool
}

// get returns an empty sendBuf.
func (sp *sendPool) get() *sendBuf {
	if b, ok := sp.p.Get().(*sendBuf); ok {
		return b
	}
	return new(sendBuf)
}

// put empties b and keeps it for reuse, unless it grew past
// maxPooledSend. b must not be used afterwards.
func (sp *sendPool) put(b *sendBuf) {
	b.dropRefs(sp)
	if cap(b.B) > maxPooledSend {
		return
	}
	b.B = b.B[:0]
	b.inLo, b.inHi = 0, 0
	b.tally = tally{}
	clear(b.iov)
	b.iov = b.iov[:0]
	sp.p.Put(b)
}

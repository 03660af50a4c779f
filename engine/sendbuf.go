package engine

import (
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// sendBuf is an outbox's buffer: the frames to write, in order. Most of
// it is bytes, in B. A payload sent with Conn.SendNoCopy from a callback,
// when it lies in the input gnet handed the loop for this OnTraffic, is
// not copied into B: an extent records where it goes, and the flush at the
// end of OnTraffic writes B and those payloads together with writev.
//
// A sendBuf belongs to one outbox at a time and is used under its mu.
type sendBuf struct {
	B []byte
	// inLo and inHi bound the loop's input while the loop is in the
	// connection's OnTraffic (set at its start, for event connections),
	// 0 otherwise. Addresses only: the input outlives the buffer's use.
	inLo, inHi uintptr
	ext        []extent // payloads written where they are, in order of at
	extBytes   int      // their total length
	iov        []unix.Iovec
	// tally counts the frames in the buffer, for Server.Stats.
	tally tally
}

// extent is a payload written from where it is: after B[:at], before
// B[at:].
type extent struct {
	at int
	p  []byte
}

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
	return len(p) >= noCopyMin && len(b.ext) < maxExtents && b.inInput(p)
}

// reference records p as the bytes that follow B's current end.
func (b *sendBuf) reference(p []byte) {
	b.ext = append(b.ext, extent{at: len(b.B), p: p})
	b.extBytes += len(p)
}

// parts yields the buffer's output in order: the pieces of B between
// extents and the extents' payloads, empty ones skipped.
func (b *sendBuf) parts(yield func([]byte) bool) {
	prev := 0
	for _, e := range b.ext {
		if e.at > prev && !yield(b.B[prev:e.at]) {
			return
		}
		if !yield(e.p) {
			return
		}
		prev = e.at
	}
	if len(b.B) > prev {
		yield(b.B[prev:])
	}
}

// writev writes the buffer to fd with one writev system call (two
// iovecs per extent at most) and returns how much was written: all of it,
// less when the socket is full, 0 on an error (the caller's fallback
// write through gnet reports it).
func (b *sendBuf) writev(fd int) int {
	iov := b.iov[:0]
	for p := range b.parts {
		var v unix.Iovec
		v.Base = &p[0]
		v.SetLen(len(p))
		iov = append(iov, v)
	}
	b.iov = iov
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
// connection holds none. The zero value is ready to use.
type sendPool struct{ p sync.Pool }

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
	if cap(b.B) > maxPooledSend {
		return
	}
	b.B = b.B[:0]
	b.inLo, b.inHi = 0, 0
	clear(b.ext) // the payloads are gnet's: drop the references
	b.ext = b.ext[:0]
	b.extBytes = 0
	b.tally = tally{}
	clear(b.iov)
	b.iov = b.iov[:0]
	sp.p.Put(b)
}

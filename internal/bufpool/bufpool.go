// Package bufpool is a pool of byte buffers that never keeps a large one:
// a buffer that grew past the pool's cap goes to the garbage collector
// instead of back to the pool, so a burst of large messages (or a
// decompression bomb stopped at the size limit) does not leave the server
// holding their memory.
package bufpool

import "sync"

// Buffer is a pooled byte slice.
type Buffer struct{ B []byte }

// Pool holds Buffers of at most Max bytes of capacity. The zero value keeps
// buffers up to DefaultMax. Safe for concurrent use.
type Pool struct {
	// Max is the largest capacity a Buffer may have to go back to the
	// pool; 0 means DefaultMax.
	Max int
	p   sync.Pool
}

// DefaultMax is the largest buffer a Pool keeps when Max is 0.
const DefaultMax = 1 << 20

// Get returns an empty Buffer.
func (p *Pool) Get() *Buffer {
	if b, ok := p.p.Get().(*Buffer); ok {
		return b
	}
	return new(Buffer)
}

// Put empties b and keeps it for reuse, unless it grew past the pool's
// cap. b must not be used afterwards.
func (p *Pool) Put(b *Buffer) {
	max := p.Max
	if max == 0 {
		max = DefaultMax
	}
	if cap(b.B) > max {
		return
	}
	b.B = b.B[:0]
	p.p.Put(b)
}

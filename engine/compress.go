package engine

import (
	"sync"

	"github.com/volley-ws/volley/codec"
	"github.com/volley-ws/volley/internal/bufpool"
	"github.com/volley-ws/volley/internal/handshake"
)

// compression is the permessage-deflate state of a connection that
// negotiated it. Compressors come from the server's codec.Flate: without
// context takeover they are borrowed per message, with it the compressor
// is kept while messages flow and given back IdleRelease after the last
// one (the ticker does it), keeping only the 32 KiB window.
type compression struct {
	// Senders (any goroutine), under mu: compress and queue one message
	// part at a time, so compressed bytes reach the outbox in the order
	// they were compressed.
	mu      sync.Mutex
	defl    codec.Deflater
	sending bool // the message being sent (fragmented) is compressed
	closed  bool // the connection is gone: the compressor is back in the pool
	minSize int
	// sharedBits is the server_max_window_bits of a connection that
	// compresses without context takeover, whose published messages are
	// compressed once for all such subscribers (fanout.go); 0 with context
	// takeover.
	sharedBits uint8
	// releaseAt is the coarse time after which the ticker gives the kept
	// compressor back; 0 when none is kept.
	releaseAt atomicMoment

	// infl inflates received messages, on the loop (reader.go).
	infl codec.Inflater
}

// setCompression installs the permessage-deflate state a negotiated, if
// any. Called once, before the connection enters WebSocket mode.
func (c *connection) setCompression(a *handshake.Accepted) {
	if !a.Compressed || c.srv.flate == nil {
		return
	}
	z := c.srv.newCompression(&a.Deflate)
	c.srv.mu.Lock()
	c.z = z
	c.srv.mu.Unlock()
}

// newCompression returns the state for the negotiated parameters p.
func (s *Server) newCompression(p *handshake.DeflateParams) *compression {
	cfg := &s.cfg.Upgrade.Compression
	z := &compression{minSize: cfg.MinSize}
	bits := p.ServerMaxWindowBits
	if bits < 8 || bits > 15 {
		bits = 15
	}
	if p.ServerNoContextTakeover || bits < 15 { // as codec.Deflater.Init decides
		z.sharedBits = uint8(bits)
	}
	z.defl.Init(s.flate, !p.ServerNoContextTakeover, p.ServerMaxWindowBits)
	z.infl.Init(s.flate, !p.ClientNoContextTakeover, p.ClientMaxWindowBits)
	return z
}

// compress turns payload, the next part of a message, into what goes on
// the wire, and returns the RSV bits for its frame. scratch, when not nil,
// holds the compressed bytes and goes back to the pool once they are
// queued. mu must be held and closed must be false.
func (z *compression) compress(s *Server, first, fin bool, payload []byte) (out []byte, rsv byte, scratch *bufpool.Buffer) {
	if first {
		// A fragmented message is always compressed: its size is unknown.
		z.sending = !fin || len(payload) >= z.minSize
	}
	if !z.sending {
		return payload, 0, nil
	}
	held := z.defl.Holding()
	scratch = s.msgs.Get()
	scratch.B = z.defl.Append(scratch.B[:0], payload, fin)
	if now := z.defl.Holding(); now != held {
		if now {
			s.heldCompressors.Add(1)
		} else {
			s.heldCompressors.Add(-1)
		}
	}
	if first {
		rsv = codec.Rsv1
	}
	if fin {
		z.sending = false
	}
	if z.defl.Holding() && !z.defl.InMessage() {
		z.releaseAt.Store(s.coarseNow().add(s.cfg.Upgrade.Compression.IdleRelease))
	}
	return scratch.B, rsv, scratch
}

// release gives the kept compressor back if the connection has been idle
// long enough and no sender is using it. Any goroutine (the ticker).
func (z *compression) release(s *Server, now moment) {
	if r := z.releaseAt.Load(); r == 0 || !now.reached(r) {
		return
	}
	if !z.mu.TryLock() {
		return
	}
	if r := z.releaseAt.Load(); r != 0 && now.reached(r) && z.defl.Release() {
		z.releaseAt.Store(0)
		s.heldCompressors.Add(-1)
	}
	z.mu.Unlock()
}

// close returns everything to the pools. The connection is gone: loop only,
// after the last sender.
func (z *compression) close(s *Server) {
	z.mu.Lock()
	z.closed = true
	if z.defl.Holding() {
		s.heldCompressors.Add(-1)
	}
	z.defl.Close()
	z.releaseAt.Store(0)
	z.mu.Unlock()
	z.infl.Close()
}

package engine

import (
	"net"

	"github.com/volley-ws/volley/conn"
	"github.com/volley-ws/volley/upgrade"
)

// backend is the upgrade.Backend of a connection's Context.
type backend struct{ c *connection }

// Upgrade queues the 101 response, creates the WebSocket and hands the
// connection to the loop in WebSocket mode. Called on the handler's
// goroutine.
func (b backend) Upgrade(a *upgrade.Accepted) (*conn.WebSocket, error) {
	c := b.c
	c.setCompression(a)
	o := &c.out
	o.mu.Lock()
	if o.dead {
		o.mu.Unlock()
		return nil, conn.ErrAborted
	}
	buf := o.buffer(&c.srv.sends)
	buf.B = a.AppendResponse(buf.B)
	ws, peer := conn.New(c)
	if c.z != nil {
		// The session goroutine inflates its compressed messages, off
		// the event loop; the Inflater is its from now on.
		peer.SetInflater(&c.z.infl, c.srv.cfg.MaxMessageSize)
	}
	c.user = peer
	o.scheduled = true
	o.mu.Unlock()
	c.signals.handOff(handoffUpgraded)
	_ = c.gc.Wake(nil)
	return ws, nil
}

// RemoteAddr returns the client's address.
func (b backend) RemoteAddr() net.Addr { return b.c.gc.RemoteAddr() }

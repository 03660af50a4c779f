package engine

import (
	"sync"

	"github.com/volley-ws/volley/upgrade"
)

// openings holds the handshake requests of the event connections whose
// OnOpen is running, for Conn.Request: at most one per event loop at a
// time, so a connection does not carry a field for it all its life. The
// zero value is ready to use; safe for concurrent use.
type openings struct {
	mu   sync.Mutex
	reqs map[*connection]opening
}

// opening is one handshake request: the loop's in-place parse until
// Conn.Request clones it.
type opening struct {
	req    *upgrade.Request
	cloned bool
}

// add records req, which refers to the loop's input buffer, as c's
// handshake while its OnOpen runs.
func (o *openings) add(c *connection, req *upgrade.Request) {
	o.mu.Lock()
	if o.reqs == nil {
		o.reqs = make(map[*connection]opening)
	}
	o.reqs[c] = opening{req: req}
	o.mu.Unlock()
}

// remove forgets c's handshake: its OnOpen returned.
func (o *openings) remove(c *connection) {
	o.mu.Lock()
	delete(o.reqs, c)
	o.mu.Unlock()
}

// request returns c's handshake request, cloned on the first call so that
// it outlives the input buffer, or nil when c's OnOpen is not running.
func (o *openings) request(c *connection) *upgrade.Request {
	o.mu.Lock()
	defer o.mu.Unlock()
	op, ok := o.reqs[c]
	if !ok {
		return nil
	}
	if !op.cloned {
		op = opening{req: op.req.Clone(), cloned: true}
		o.reqs[c] = op
	}
	return op.req
}

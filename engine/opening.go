package engine

import "github.com/volley-ws/volley/upgrade"

// openings holds the handshake requests of the event connections whose
// OnOpen is running, for Conn.Request: at most one per event loop at a
// time. The zero value is ready to use; safe for concurrent use.
type openings struct{ t sideTable[opening] }

// opening is one handshake request: the loop's in-place parse until
// Conn.Request clones it.
type opening struct {
	req    *upgrade.Request
	cloned bool
}

// add records req, which refers to the loop's input buffer, as c's
// handshake while its OnOpen runs.
func (o *openings) add(c *connection, req *upgrade.Request) { o.t.set(c, opening{req: req}) }

// remove forgets c's handshake: its OnOpen returned.
func (o *openings) remove(c *connection) { o.t.take(c) }

// request returns c's handshake request, cloned on the first call so that
// it outlives the input buffer, or nil when c's OnOpen is not running.
// Only c's loop calls it, as add and remove, so the get and set of a
// clone do not race.
func (o *openings) request(c *connection) *upgrade.Request {
	op, ok := o.t.get(c)
	if !ok {
		return nil
	}
	if !op.cloned {
		op = opening{req: op.req.Clone(), cloned: true}
		o.t.set(c, op)
	}
	return op.req
}

package engine

// The input of a bridged connection. net/http reads a request through a
// buffer, so what a client sent right after its handshake (its first
// frames, in the same packet) may sit in the hijacked bufio.Reader rather
// than in the socket. ServeHTTP copies those bytes, the prefix, and the
// loop parses them before anything it reads from the socket: until they
// are consumed, the connection's input is the prefix followed by gnet's
// buffer. Only a bridged connection that had such bytes carries the
// prefixed flag; for the others each of these functions costs a flag test.

// inbound returns the bytes waiting to be parsed. Loop only.
func (c *connection) inbound() int {
	n := c.gc.InboundBuffered()
	if c.flags.has(prefixed) {
		p, _ := c.srv.bridge.prefixes.get(c)
		n += len(p)
	}
	return n
}

// input returns the bytes waiting to be parsed, valid until the loop
// iteration ends: gnet's buffer, or the prefix followed by a copy of it.
// The parser unmasks in place what it consumes; the prefix's consumed
// bytes are dropped with it. Loop only.
func (c *connection) input() []byte {
	if !c.flags.has(prefixed) {
		data, _ := c.gc.Peek(-1)
		return data
	}
	p, _ := c.srv.bridge.prefixes.get(c)
	if c.gc.InboundBuffered() == 0 {
		return p
	}
	data, _ := c.gc.Peek(-1)
	return append(p[:len(p):len(p)], data...) // a new array: p stays as it is
}

// consume drops the first n bytes of the input: from the prefix, then
// from gnet's buffer. Loop only.
func (c *connection) consume(n int) {
	if c.flags.has(prefixed) {
		p, _ := c.srv.bridge.prefixes.get(c)
		if n < len(p) {
			if n > 0 {
				c.srv.bridge.prefixes.set(c, p[n:])
			}
			return
		}
		n -= len(p)
		c.dropPrefix()
	}
	if n > 0 { // Discard(0) would drop everything
		_, _ = c.gc.Discard(n)
	}
}

// setPrefix makes p the input to parse before the socket's. Loop only,
// before the first parse.
func (c *connection) setPrefix(p []byte) {
	if len(p) > 0 {
		c.srv.bridge.prefixes.set(c, p)
		c.flags.set(prefixed, true)
	}
}

// dropPrefix forgets the prefix: consumed, or the connection is gone.
// Loop only.
func (c *connection) dropPrefix() {
	if c.flags.has(prefixed) {
		c.srv.bridge.prefixes.take(c)
		c.flags.set(prefixed, false)
	}
}

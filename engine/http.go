package engine

import (
	"errors"
	"net/http"
	"unsafe"

	"github.com/volley-ws/volley/internal/handshake"
	"github.com/volley-ws/volley/internal/httpwire"
	"github.com/volley-ws/volley/upgrade"
)

// readHTTP parses one request from data and dispatches it. It returns the
// bytes consumed: 0 when the request is incomplete. Loop only.
func (c *connection) readHTTP(data []byte) int {
	s := c.srv
	req, _ := s.reqs.Get().(*upgrade.Request)
	if req == nil {
		req = new(upgrade.Request)
	}
	n := c.dispatch(req, data)
	// Keep the header storage, drop every reference to the input.
	clear(req.Header)
	*req = upgrade.Request{Header: req.Header[:0]}
	s.reqs.Put(req)
	return n
}

// dispatch is readHTTP with req to parse into. req refers to data, which
// is valid until the loop discards it after OnTraffic: what is kept beyond
// this call is copied. Loop only.
func (c *connection) dispatch(req *upgrade.Request, data []byte) int {
	s := c.srv
	n, err := httpwire.Parse(req, data, s.cfg.MaxHandshakeBytes)
	if err != nil {
		c.refuseRequest(err)
		return len(data)
	}
	if n == 0 {
		return 0
	}
	// The head runs from the method (after any empty lines the parser
	// skipped) to the blank line that ends it.
	head := data[uintptr(unsafe.Pointer(unsafe.StringData(req.Method)))-uintptr(unsafe.Pointer(&data[0])) : n]
	var body []byte
	if cl := req.ContentLength; cl > 0 {
		if cl > int64(s.cfg.MaxRequestBody) {
			c.refuseRequest(upgrade.ErrBodyTooLarge)
			return len(data)
		}
		if int64(len(data)-n) < cl {
			return 0 // wait for the whole body
		}
		body = data[n : n+int(cl)] // copied by newRequest
		n += int(cl)
	}
	c.due.Store(0)
	keepAlive := req.KeepAlive && !s.shutdown.Load()
	rt, ok := s.routes[req.Path]
	switch {
	case !ok:
		if handshake.IsUpgradeRequest(req) {
			c.countRefused(http.StatusNotFound)
		}
		c.respond(http.StatusNotFound, "not found", keepAlive)
		c.logNotFound(req)
	case rt.events > 0:
		c.acceptEvents(req, rt.events)
	default:
		c.handler = blockingRoute | rt.idx
		c.flags.setPhase(phaseHandler)
		r := c.newRequest(req, head, body)
		c.accessBegin(r, req.Path, s.accessStart())
		s.handlers.Add(1)
		go s.runHandler(c, rt.fn, r, keepAlive)
	}
	return n
}

// refuse answers a request with err's status (a *upgrade.StatusError; any
// other error is a 400) and closes the connection after the response. Loop
// only.
func (c *connection) refuse(err error) {
	var se *upgrade.StatusError
	if !errors.As(err, &se) {
		se = upgrade.ErrMalformedRequest
	}
	c.countRefused(se.Status)
	c.queueLocal(httpwire.AppendResponse(nil, se.Status, se.Header, []byte(se.Reason), false, false), true)
	c.flags.setPhase(phaseClosing)
	c.flags.set(readDone, true)
}

// respond queues a plain text response; without keepAlive the connection
// closes after it. Loop only.
func (c *connection) respond(status int, body string, keepAlive bool) {
	hdr := []upgrade.HeaderField{{Name: "Content-Type", Value: "text/plain; charset=utf-8"}}
	c.queueLocal(httpwire.AppendResponse(nil, status, hdr, []byte(body), keepAlive, false), !keepAlive)
	if keepAlive {
		c.setDue(c.srv.coarseNow().add(c.srv.cfg.HandshakeTimeout))
	} else {
		c.flags.setPhase(phaseClosing)
	}
}

// queueLocal appends raw bytes (an HTTP response) to the outbox. They count
// against MaxUnsentBytes like everything else queued: the loop reads no
// further request while the peer leaves them unread. Any goroutine.
func (c *connection) queueLocal(b []byte, thenClose bool) {
	o := &c.out
	o.mu.Lock()
	if !o.flags.has(dead) {
		buf := o.buffer(&c.srv.sends)
		buf.B = append(buf.B, b...)
		if thenClose {
			o.flags |= closeAfter | closeQueued
		}
	}
	o.mu.Unlock()
}

// queueAccepted queues a's 101 response, with the extra header fields,
// written straight into the outbound buffer. Any goroutine.
func (c *connection) queueAccepted(a *handshake.Accepted, extra []upgrade.HeaderField) bool {
	o := &c.out
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.flags.has(dead) {
		return false
	}
	b := o.buffer(&c.srv.sends)
	b.B = a.AppendResponse(b.B, extra)
	return true
}

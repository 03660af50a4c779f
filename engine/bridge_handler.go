package engine

import (
	"io"
	"net"
	"net/http"
	"time"

	"github.com/volley-ws/volley/conn"
	"github.com/volley-ws/volley/internal/hctx"
	"github.com/volley-ws/volley/internal/session"
	"github.com/volley-ws/volley/upgrade"
)

// bridgeRequest is a request that came through ServeHTTP, handed to a
// HandleFunc route's handler: the engine's request (its copy of the head
// and body, the negotiated handshake, the connection-to-be), with the
// net/http side that Upgrade hijacks. Its fields belong to the handler's
// goroutine; ServeHTTP waits for done.
type bridgeRequest struct {
	request
	w      http.ResponseWriter // nil once ServeHTTP may have returned
	r      *http.Request
	remote net.Addr
	// done is closed when ServeHTTP may return: the handler upgraded (or
	// its connection is lost in trying), or it returned and its response
	// was written through w.
	done chan struct{}
	// hijacked records that a failed Upgrade took the connection from
	// net/http: its refusal was answered on the connection itself.
	hijacked bool
}

// release lets ServeHTTP return: w and r are not used any more. Handler
// goroutine.
func (br *bridgeRequest) release() {
	if br.w != nil {
		br.w, br.r = nil, nil
		close(br.done)
	}
}

// serveHandler runs fn for r on a goroutine of its own, counted as a
// handler for Shutdown, as the server's own connections do: ServeHTTP's
// goroutine, with net/http's buffers, is not kept for the lifetime of a
// WebSocket. It returns once the handler upgraded, or returned and its
// response was written through w. ServeHTTP's goroutine.
func (s *Server) serveHandler(w http.ResponseWriter, r *http.Request, req *upgrade.Request, head []byte, rt route, start time.Time) {
	body, err := readBody(r, s.cfg.MaxRequestBody)
	if err == nil && len(body) > 0 {
		req, head, err = s.bridgeRequestHead(r, len(body)) // with its Content-Length
	}
	if err != nil {
		s.refuse(w, r, err, start)
		return
	}
	if !s.admitHandler() {
		s.refuse(w, r, upgrade.ErrServiceUnavailable, start)
		return
	}
	c := &connection{srv: s, handler: blockingRoute | rt.idx}
	br := &bridgeRequest{request: *c.newRequest(req, head, body), w: w, r: r, remote: remoteAddr(r), done: make(chan struct{})}
	br.ctx.Init(br)
	c.accessBegin(&br.request, req.Path, start)
	go s.runBridged(rt.fn, br)
	<-br.done
}

// runBridged runs a handler for ServeHTTP on its own goroutine, under a
// frame as small as runHandler's.
func (s *Server) runBridged(fn upgrade.HandlerFunc, br *bridgeRequest) {
	defer s.endBridged(br)
	fn((*upgrade.Context)(&br.ctx))
}

// endBridged, deferred by runBridged, recovers and logs a handler's
// panic, and ends the request: the WebSocket's closing handshake after an
// upgrade, the handler's response through w otherwise, counted and logged
// as endHandler does for the server's own connections.
func (s *Server) endBridged(br *bridgeRequest) {
	defer s.handlers.Done()
	defer br.release()
	panicked := false
	if v := recover(); v != nil {
		panicked = true
		s.logRequestPanic(v, br.remote, br.Request().Path, false)
	}
	if br.ctx.Flags()&hctx.Upgraded != 0 {
		br.c.endSession(panicked)
		return
	}
	var out hctx.Response[upgrade.HeaderField]
	if p := br.ctx.Response(); p != nil {
		out = *p
	}
	status := out.Status
	switch {
	case panicked:
		status = http.StatusInternalServerError
		writeRefusal(br.w, &upgrade.StatusError{Status: status, Reason: "internal server error"})
	case br.hijacked:
		// Upgrade's refusal was answered on the connection itself.
	default:
		if status == 0 {
			status = http.StatusOK
		}
		h := br.w.Header()
		for _, f := range out.Header {
			h.Add(f.Name, f.Value)
		}
		br.w.WriteHeader(status)
		_, _ = br.w.Write(out.Body)
	}
	if br.IsUpgrade() && status >= 400 {
		s.countRefusedOffLoop(status) // a handshake the handler (or Upgrade) refused
	}
	br.c.logHandlerAnswer(&br.request, br.remote, status, panicked)
}

// RemoteAddr implements hctx.Source.
func (br *bridgeRequest) RemoteAddr() net.Addr { return br.remote }

// Upgrade implements hctx.Source: it hands the connection to an event
// loop, which writes the 101 response and attaches the session. Handler
// goroutine (ServeHTTP's).
func (br *bridgeRequest) Upgrade() (conn.WebSocket, error) {
	if br.r.TLS != nil {
		return nil, ErrBridgeTLS
	}
	a, err := br.accept()
	if err != nil {
		return nil, err
	}
	c := br.c
	ws := session.New(c, &c.srv.msgs)
	hijacked, err := c.srv.handOver(br.w, br.r, &bridged{c: c, acc: a, ws: ws})
	if hijacked {
		br.release()
	}
	if err != nil {
		br.hijacked = hijacked
		if c.z != nil { // never used: nothing else has c
			c.z.close(c.srv)
			c.z = nil
		}
		return nil, err
	}
	return ws, nil
}

// readBody reads r's body, at most limit bytes (upgrade.ErrBodyTooLarge
// past it).
func readBody(r *http.Request, limit int) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	if r.ContentLength > int64(limit) {
		return nil, upgrade.ErrBodyTooLarge
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, int64(limit)+1))
	switch {
	case err != nil:
		return nil, upgrade.ErrMalformedRequest
	case len(b) > limit:
		return nil, upgrade.ErrBodyTooLarge
	}
	return b, nil
}

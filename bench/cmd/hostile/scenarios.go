package main

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"
)

var (
	errStopped = errors.New("stopped")
	errTime    = errors.New("time is up")
)

func randMask() [4]byte {
	var m [4]byte
	for m == [4]byte{} {
		v := rand.Uint32()
		m = [4]byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)}
	}
	return m
}

// isReset reports whether err says the peer reset the connection (or it
// is gone: EPIPE follows a reset).
func isReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// write writes b to h, each Write under a deadline of at most -stall (a
// write that waits it all is a stall, and is retried) and never past
// until. It returns the bytes written and errStopped, errTime or the
// connection's error if it did not write them all. A connection error
// counts as the server closing the connection.
func (r *run) write(h *hconn, b []byte, until time.Time) (int, error) {
	n := 0
	for n < len(b) {
		if r.stopped() {
			return n, errStopped
		}
		now := time.Now()
		if !now.Before(until) {
			return n, errTime
		}
		dl, full := now.Add(r.cfg.stall), true
		if until.Before(dl) {
			dl, full = until, false
		}
		_ = h.c.SetWriteDeadline(dl)
		m, err := h.c.Write(b[n:])
		n += m
		h.sent.Add(int64(m))
		if err == nil {
			continue
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			if full {
				h.stalls.Add(1)
			}
			continue
		}
		h.markClosed(time.Now())
		if isReset(err) {
			h.readEnd = "reset"
		}
		return n, err
	}
	return n, nil
}

// plan is what a flooding connection writes: buf again and again, one
// buf every interval (0: as fast as it goes); frame is the size of one
// frame (or request) in buf.
type plan struct {
	buf      []byte
	frame    int
	interval time.Duration
}

// sendLoop writes p.buf over and over until until.
func (r *run) sendLoop(h *hconn, p plan, until time.Time) {
	next := time.Now()
	for {
		if _, err := r.write(h, p.buf, until); err != nil {
			return
		}
		if p.interval <= 0 {
			continue
		}
		next = next.Add(p.interval)
		now := time.Now()
		if next.Before(now.Add(-time.Second)) {
			next = now // far behind (the server stopped reading): do not burst
		}
		if d := min(next.Sub(now), until.Sub(now)); d > 0 && !r.sleep(d) {
			return
		}
	}
}

// flood makes every open connection of hs follow its plan for d, all
// starting together, then reads what the server sent (drain) and sums up.
func (r *run) flood(hs []*hconn, d time.Duration, planOf func(h *hconn) plan, http bool) error {
	lv := live(hs)
	if len(lv) == 0 {
		r.summarize(hs, time.Now())
		return errors.New("no connection could be opened")
	}
	start := time.Now()
	until := start.Add(d)
	var wg sync.WaitGroup
	for _, h := range lv {
		h.ref = start
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.sendLoop(h, planOf(h), until)
		}()
	}
	wg.Wait()
	freeze := r.freeze(hs)
	for _, h := range lv {
		r.res.Sent += h.sent.Load() / int64(planOf(h).frame)
	}
	if http {
		r.drainHTTP(lv)
	} else {
		r.drainWS(lv)
	}
	r.summarize(hs, freeze)
	return nil
}

// freeze ends the scenario proper: the tracker confirms what it saw, and
// the bytes the server had not read are taken now, before anything reads
// the connections. It returns the time after which closes no longer count
// as the server's.
func (r *run) freeze(hs []*hconn) time.Time {
	r.trk.final()
	for _, h := range hs {
		h.unreadEnd = h.unread.Load()
	}
	return time.Now()
}

// readStream reads h until deadline, feeding fn what arrives (first the
// bytes that came with the handshake answer) until fn returns true or
// limit bytes were read. It records how reading ended in h.readEnd, and an
// EOF or reset as the server closing the connection.
func (r *run) readStream(h *hconn, buf []byte, deadline time.Time, limit int64, fn func([]byte) bool) {
	if len(h.rest) > 0 {
		rest := h.rest
		h.rest = nil
		if fn(rest) {
			return
		}
	}
	var total int64
	_ = h.c.SetReadDeadline(deadline)
	defer h.c.SetReadDeadline(time.Time{})
	for {
		if r.stopped() {
			h.readEnd = "stopped"
			return
		}
		n, err := h.c.Read(buf)
		total += int64(n)
		if n > 0 && fn(buf[:n]) {
			return
		}
		switch {
		case err == nil:
			if total >= limit {
				h.readEnd = "limit"
				return
			}
			continue
		case errors.Is(err, os.ErrDeadlineExceeded):
			h.readEnd = "timeout"
		case errors.Is(err, io.EOF):
			h.readEnd = "eof"
			h.markClosed(time.Now())
		case isReset(err):
			h.readEnd = "reset"
			h.markClosed(time.Now())
		default:
			h.readEnd = "error"
		}
		return
	}
}

// replyClose answers a server's close frame (best effort).
func replyClose(h *hconn, code int) {
	var p []byte
	if code != 1005 && code != 1006 && code != 1015 {
		p = closePayload(code, "")
	}
	_ = h.c.SetWriteDeadline(time.Now().Add(200 * time.Millisecond))
	_, _ = h.c.Write(appendFrame(nil, finBit|opClose, p, randMask()))
}

// readWS reads server frames from h until deadline: until a close frame
// (answered), or stopAt data messages (0: none stops it), or the end of
// the stream, or limit bytes. It records the close code and the echoes.
func (r *run) readWS(h *hconn, buf []byte, deadline time.Time, limit int64, stopAt int64) *frameScanner {
	s := &frameScanner{}
	r.readStream(h, buf, deadline, limit, func(b []byte) bool {
		s.feed(b)
		switch {
		case s.closed:
			h.markClosed(time.Now())
			h.readEnd = "close"
			return true
		case s.bad != "":
			h.readEnd = "bad frame: " + s.bad
			return true
		case stopAt > 0 && s.msgs >= stopAt:
			h.readEnd = "echo"
			return true
		}
		return false
	})
	h.echoes, h.echoBytes = s.msgs, s.dataBytes
	if s.closed {
		h.code = s.code
		replyClose(h, s.code)
	}
	return s
}

// drainWS reads what the server sent to each connection (close codes),
// for at most -drain and -drain-bytes each, all at once.
func (r *run) drainWS(hs []*hconn) {
	deadline := time.Now().Add(r.cfg.drain)
	var wg sync.WaitGroup
	for _, h := range hs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.readWS(h, make([]byte, 32<<10), deadline, r.cfg.drainBytes, 0)
		}()
	}
	wg.Wait()
}

// drainHTTP reads the responses the server sent (pipeline).
func (r *run) drainHTTP(hs []*hconn) {
	deadline := time.Now().Add(r.cfg.drain)
	var wg sync.WaitGroup
	for _, h := range hs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h.http = &httpScanner{}
			r.readStream(h, make([]byte, 32<<10), deadline, r.cfg.drainBytes, func(b []byte) bool {
				h.http.feed(b)
				return h.http.stopped != ""
			})
		}()
	}
	wg.Wait()
	for _, h := range hs {
		r.res.Responses += h.http.responses
		for code, n := range h.http.statuses {
			if r.res.HTTPStatus == nil {
				r.res.HTTPStatus = map[string]int{}
			}
			r.res.HTTPStatus[strconv.Itoa(code)] += int(n)
		}
		if h.http.stopped != "" {
			r.res.Notes = append(r.res.Notes, "responses: "+h.http.stopped)
		}
	}
}

func (r *run) pingflood() error {
	hs := r.open(r.cfg.conns, false, "", nil)
	frame := appendFrame(nil, finBit|opPing, fillPayload(125), randMask())
	p := plan{buf: repeatFrames(frame, 64<<10), frame: len(frame)}
	return r.flood(hs, r.cfg.duration, func(*hconn) plan { return p }, false)
}

func (r *run) pipeline() error {
	hs := r.open(r.cfg.conns, true, "", nil)
	req := []byte("GET " + r.cfg.path + " HTTP/1.1\r\nHost: " + r.cfg.addr + "\r\n\r\n")
	p := plan{buf: repeatFrames(req, 64<<10), frame: len(req)}
	return r.flood(hs, r.cfg.duration, func(*hconn) plan { return p }, true)
}

// messagePlan sends size-byte binary messages, rate a second (0: as fast
// as it goes).
func messagePlan(size, rate int) plan {
	frame := appendFrame(nil, finBit|opBinary, fillPayload(size), randMask())
	if rate <= 0 {
		return plan{buf: repeatFrames(frame, 64<<10), frame: len(frame)}
	}
	batch := max(1, rate/100) // about 100 writes a second
	return plan{
		buf:      repeatFrames(frame, batch*len(frame)),
		frame:    len(frame),
		interval: time.Duration(batch) * time.Second / time.Duration(rate),
	}
}

func (r *run) noread() error {
	hs := r.open(r.cfg.conns, false, "", nil)
	p := messagePlan(r.cfg.size, r.cfg.rate)
	return r.flood(hs, r.cfg.duration, func(*hconn) plan { return p }, false)
}

func (r *run) failnoread() error {
	cfg := r.cfg
	hs := r.open(cfg.conns, false, "", nil)
	lv := live(hs)
	if len(lv) == 0 {
		r.summarize(hs, time.Now())
		return errors.New("no connection could be opened")
	}
	mask := randMask()
	frame := appendFrame(nil, finBit|opBinary, fillPayload(cfg.size), mask)
	bad := appendFrame(nil, finBit|rsv2Bit|opBinary, []byte("rsv2 is not negotiated"), mask)
	fillStall := max(cfg.stall, time.Second)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var lastBad time.Time
	for _, h := range lv {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h.ref = time.Now()
			// fill: whole messages until -fill, or until the server stops
			// taking them for fillStall
			var pending []byte
			for h.sent.Load() < int64(cfg.fill) {
				n, err := r.write(h, frame, time.Now().Add(fillStall))
				if errors.Is(err, errTime) {
					pending = frame[n:]
					break
				}
				if err != nil {
					return // closed already, or stopped
				}
			}
			out := append(append([]byte(nil), pending...), bad...)
			n, err := r.write(h, out, time.Now().Add(5*time.Second))
			h.badSent = err == nil && n == len(out)
			h.ref = time.Now()
			mu.Lock()
			lastBad = h.ref
			mu.Unlock()
		}()
	}
	wg.Wait()
	for _, h := range lv {
		r.res.Sent += min(h.sent.Load(), int64(cfg.fill)) / int64(len(frame))
		if h.badSent {
			r.res.BadSent++
		}
	}
	if r.trk.failed.Load() {
		r.res.Notes = append(r.res.Notes, "whether the server read the failing frame is unknown without /proc/net/tcp")
	}
	// wait for the server to close them, at most -wait after the last
	// failing frame
	end := lastBad.Add(cfg.wait)
	for time.Now().Before(end) && !r.stopped() {
		open := 0
		for _, h := range lv {
			if h.closedAt.Load() == 0 {
				open++
			}
		}
		if open == 0 {
			break
		}
		r.sleep(min(cfg.sample, time.Until(end)))
	}
	freeze := r.freeze(hs)
	r.drainWS(lv)
	r.summarize(hs, freeze)
	return nil
}

func (r *run) bomb() error {
	cfg := r.cfg
	payload, err := deflateBomb(cfg.inflate, cfg.level)
	if err != nil {
		return err
	}
	r.res.Wire = len(payload)
	frame := appendFrame(nil, finBit|rsv1Bit|opBinary, payload, randMask())
	hs := r.open(cfg.conns, false, cfg.offer, nil)
	lv := live(hs)
	for _, h := range lv {
		if deflateAccepted(h.ext) {
			r.res.Deflate++
		}
	}
	if len(lv) == 0 {
		r.summarize(hs, time.Now())
		return errors.New("no connection could be opened")
	}
	if r.res.Deflate < len(lv) {
		r.res.Notes = append(r.res.Notes, fmt.Sprintf("permessage-deflate refused on %d connections (the bomb is then a protocol error)", len(lv)-r.res.Deflate))
	}
	gate := make(chan struct{})
	var wg sync.WaitGroup
	for _, h := range lv {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			h.ref = time.Now()
			_, _ = r.write(h, frame, h.ref.Add(5*time.Second))
			r.readWS(h, make([]byte, 32<<10), h.ref.Add(cfg.wait), cfg.inflate+(1<<20), 1)
		}()
	}
	close(gate) // all at once
	wg.Wait()
	for _, h := range lv {
		if h.sent.Load() == int64(len(frame)) {
			r.res.Sent++
		}
	}
	freeze := r.freeze(hs)
	if cfg.under && r.sleep(cfg.settle) {
		r.res.RSSIdle = r.rss.sample()
	}
	r.summarize(hs, freeze)
	return nil
}

func (r *run) halfclose() error {
	cfg := r.cfg
	got := 0
	for i := range cfg.runs {
		if r.stopped() {
			break
		}
		h := r.open(1, false, "", nil)[0]
		h.id = i
		if h.c == nil {
			r.res.Ends[h.failed]++
			continue
		}
		var frame []byte
		if cfg.closeFrame {
			frame = appendFrame(nil, finBit|opClose, closePayload(1000, "bye"), randMask())
		} else {
			frame = appendFrame(nil, finBit|opText, []byte("half-close "+strconv.Itoa(i)), randMask())
		}
		h.ref = time.Now()
		if _, err := r.write(h, frame, h.ref.Add(cfg.timeout)); err != nil {
			r.res.Ends["write failed"]++
			r.trk.forget(h)
			h.c.Close()
			h.c = nil
			continue
		}
		r.res.Sent++
		_ = h.c.CloseWrite()
		s := r.readWS(h, make([]byte, 4<<10), time.Now().Add(cfg.wait), 1<<20, 1)
		var end string
		switch {
		case cfg.closeFrame && s.closed:
			end, got = "close reply "+strconv.Itoa(s.code), got+1
		case !cfg.closeFrame && s.msgs > 0:
			end, got = "echo", got+1
		case s.closed:
			end = "no echo, close " + strconv.Itoa(s.code)
		default:
			end = "nothing back, " + h.readEnd
		}
		r.res.Ends[end]++
		r.res.Echoes += s.msgs
		r.res.BytesSent += h.sent.Load()
		if h.closedAt.Load() != 0 {
			r.res.ServerClosed++
		}
		r.trk.forget(h)
		h.c.Close()
		h.c = nil
	}
	r.res.Got = got
	return nil
}

func (r *run) many() error {
	cfg := r.cfg
	kinds := []struct {
		name string
		p    plan
	}{
		{"ping", func() plan {
			f := appendFrame(nil, finBit|opPing, fillPayload(125), randMask())
			return plan{buf: repeatFrames(f, 64<<10), frame: len(f)}
		}()},
		{"small", messagePlan(4096, 0)},
		{"big", messagePlan(64<<10, 0)},
	}
	start := time.Now()
	until := start.Add(cfg.duration)
	var wg sync.WaitGroup
	hs := r.open(cfg.conns, false, "", func(h *hconn) {
		k := kinds[h.id%len(kinds)]
		h.kind, h.ref = k.name, time.Now()
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.sendLoop(h, k.p, until)
		}()
	})
	lv := live(hs)
	wg.Wait()
	freeze := r.freeze(hs)
	for _, h := range lv {
		r.res.Sent += h.sent.Load() / int64(kinds[h.id%len(kinds)].p.frame)
	}
	if len(lv) == 0 {
		r.summarize(hs, freeze)
		return errors.New("no connection could be opened")
	}
	r.drainWS(lv)
	r.summarize(hs, freeze)
	return nil
}

package wsclient

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// websocketGUID is the magic string of RFC 6455 section 1.3.
const websocketGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// maxResponseHead bounds the bytes read for the handshake response (status
// line, header fields and the body of a refusal), so that a broken server
// cannot make Dial buffer without end before its deadline.
const maxResponseHead = 1 << 20

// reservedFields are the request header fields the handshake sets itself.
var reservedFields = []string{
	"Upgrade", "Connection", "Sec-Websocket-Key", "Sec-Websocket-Version",
	"Sec-Websocket-Protocol", "Sec-Websocket-Extensions",
}

// Dial opens a WebSocket connection to rawURL (ws://host[:port][/path][?query];
// the port defaults to 80) and performs the opening handshake of RFC 6455
// section 4.1 with the options o (nil for the defaults). ctx and o.Timeout
// bound the TCP connect and the handshake; ctx does not bound the returned
// Conn.
//
// The Response is non-nil whenever the server answered with HTTP, also with
// an error: a status other than 101 gives an error wrapping ErrRefused and
// a Response with the status, the header fields and the start of the body,
// so that a test can check a refusal (401 with WWW-Authenticate, 429 with
// Retry-After, ...). A 101 that breaks the handshake rules gives an error
// wrapping ErrHandshake. On any error the TCP connection is closed and the
// Conn is nil.
//
// Dial may be called from any goroutine. It starts no goroutine that
// outlives it.
func Dial(ctx context.Context, rawURL string, o *Options) (*Conn, *Response, error) {
	var opts Options
	if o != nil {
		opts = *o
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.MaxMessage <= 0 {
		opts.MaxMessage = DefaultMaxMessage
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, nil, fmt.Errorf("wsclient: %w", err)
	}
	if !strings.EqualFold(u.Scheme, "ws") {
		return nil, nil, fmt.Errorf("wsclient: URL %q: scheme must be ws", rawURL)
	}
	if u.Host == "" || u.User != nil || u.Fragment != "" {
		return nil, nil, fmt.Errorf("wsclient: URL %q: want ws://host[:port][/path][?query]", rawURL)
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "80")
	}
	for k := range opts.Header {
		if slices.Contains(reservedFields, http.CanonicalHeaderKey(k)) {
			return nil, nil, fmt.Errorf("wsclient: Options.Header may not set %s", k)
		}
	}
	for _, p := range opts.Subprotocols {
		if !isToken(p) {
			return nil, nil, fmt.Errorf("wsclient: subprotocol %q is not a token", p)
		}
	}

	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("wsclient: %w", err)
	}
	c, resp, err := handshake(ctx, nc, u, &opts)
	if err != nil {
		_ = nc.Close()
		return nil, resp, err
	}
	return c, resp, nil
}

// handshake sends the opening handshake on nc and checks the response.
func handshake(ctx context.Context, nc net.Conn, u *url.URL, o *Options) (*Conn, *Response, error) {
	stop := watchContext(ctx, nc.SetDeadline)
	defer stop() // a no-op after the call below

	var k [16]byte
	_, _ = rand.Read(k[:])
	key := base64.StdEncoding.EncodeToString(k[:])
	host := u.Host
	extra := http.Header{}
	for k, v := range o.Header {
		switch k = http.CanonicalHeaderKey(k); {
		case len(v) == 0:
		case k == "Host":
			host = v[0]
		default:
			extra[k] = append(extra[k], v...)
		}
	}
	var req bytes.Buffer
	fmt.Fprintf(&req, "GET %s HTTP/1.1\r\nHost: %s\r\n", u.RequestURI(), host)
	fmt.Fprintf(&req, "Upgrade: websocket\r\nConnection: Upgrade\r\n")
	fmt.Fprintf(&req, "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n", key)
	if len(o.Subprotocols) > 0 {
		fmt.Fprintf(&req, "Sec-WebSocket-Protocol: %s\r\n", strings.Join(o.Subprotocols, ", "))
	}
	if o.Compression {
		offer := "permessage-deflate; client_no_context_takeover"
		if !o.ServerContextTakeover {
			offer += "; server_no_context_takeover"
		}
		fmt.Fprintf(&req, "Sec-WebSocket-Extensions: %s\r\n", offer)
	}
	if err := extra.Write(&req); err != nil {
		return nil, nil, fmt.Errorf("wsclient: %w", err)
	}
	req.WriteString("\r\n")
	if _, err := nc.Write(req.Bytes()); err != nil {
		return nil, nil, fmt.Errorf("wsclient: handshake: %w", ctxErr(ctx, err))
	}

	lr := &limitedReader{r: nc, n: maxResponseHead}
	br := bufio.NewReaderSize(lr, 8<<10)
	hr, err := http.ReadResponse(br, &http.Request{Method: http.MethodGet})
	if err != nil {
		return nil, nil, fmt.Errorf("%w: reading the response: %w", ErrHandshake, ctxErr(ctx, err))
	}
	resp := &Response{StatusCode: hr.StatusCode, Header: hr.Header}
	if hr.StatusCode != http.StatusSwitchingProtocols {
		// A read error ends the body early; the refusal is what matters.
		resp.Body, _ = io.ReadAll(io.LimitReader(hr.Body, MaxResponseBody))
		return nil, resp, fmt.Errorf("%w: %s", ErrRefused, hr.Status)
	}
	proto, df, err := checkResponse(hr, key, o)
	if err != nil {
		return nil, resp, err
	}
	lr.n = -1 // frames follow: no limit but Options.MaxMessage
	stop()
	if err := nc.SetDeadline(time.Time{}); err != nil {
		return nil, resp, fmt.Errorf("wsclient: %w", err)
	}
	return newConn(nc, br, o, proto, df), resp, nil
}

// checkResponse checks a 101 response to a handshake with key and options o
// (RFC 6455 section 4.1, RFC 7692 section 5) and returns the subprotocol
// and the permessage-deflate parameters, nil when it was not negotiated.
func checkResponse(hr *http.Response, key string, o *Options) (string, *deflateParams, error) {
	h := hr.Header
	if v := h.Values("Upgrade"); len(v) != 1 || !strings.EqualFold(strings.TrimSpace(v[0]), "websocket") {
		return "", nil, fmt.Errorf("%w: Upgrade %q, want websocket", ErrHandshake, v)
	}
	if !hasToken(h.Values("Connection"), "upgrade") {
		return "", nil, fmt.Errorf("%w: Connection %q has no upgrade token", ErrHandshake, h.Values("Connection"))
	}
	sum := sha1.Sum([]byte(key + websocketGUID))
	want := base64.StdEncoding.EncodeToString(sum[:])
	if v := h.Values("Sec-Websocket-Accept"); len(v) != 1 || strings.TrimSpace(v[0]) != want {
		return "", nil, fmt.Errorf("%w: Sec-WebSocket-Accept %q, want %q", ErrHandshake, v, want)
	}

	var proto string
	switch v := h.Values("Sec-Websocket-Protocol"); len(v) {
	case 0:
	case 1:
		proto = strings.TrimSpace(v[0])
		offered := false
		for _, p := range o.Subprotocols {
			offered = offered || p == proto
		}
		if !offered {
			return "", nil, fmt.Errorf("%w: subprotocol %q was not offered (offered %q)", ErrHandshake, proto, o.Subprotocols)
		}
	default:
		return "", nil, fmt.Errorf("%w: %d Sec-WebSocket-Protocol fields", ErrHandshake, len(v))
	}

	exts, err := parseExtensions(h.Values("Sec-Websocket-Extensions"))
	if err != nil {
		return "", nil, fmt.Errorf("%w: Sec-WebSocket-Extensions: %w", ErrHandshake, err)
	}
	var df *deflateParams
	for _, e := range exts {
		if !strings.EqualFold(e.name, "permessage-deflate") || !o.Compression {
			return "", nil, fmt.Errorf("%w: the server accepted extension %q, which was not offered", ErrHandshake, e.name)
		}
		if df != nil {
			return "", nil, fmt.Errorf("%w: permessage-deflate accepted twice", ErrHandshake)
		}
		if df, err = deflateResponse(e, o); err != nil {
			return "", nil, fmt.Errorf("%w: permessage-deflate: %w", ErrHandshake, err)
		}
	}
	return proto, df, nil
}

// hasToken reports whether the comma-separated lists in values hold token,
// compared case-insensitively.
func hasToken(values []string, token string) bool {
	for _, v := range values {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// limitedReader reads from r at most n bytes, then fails; n < 0 means no
// limit.
type limitedReader struct {
	r io.Reader
	n int64
}

var errHeadTooLarge = errors.New("response larger than 1 MiB")

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n < 0 {
		return l.r.Read(p)
	}
	if l.n == 0 {
		return 0, errHeadTooLarge
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}

// longAgo is a deadline in the past: setting it makes pending I/O fail at
// once.
var longAgo = time.Unix(1, 0)

// watchContext applies ctx to a connection through set (SetDeadline or
// SetReadDeadline): its deadline at once, and a past deadline when ctx is
// cancelled. The returned stop must be called, by the same goroutine, when
// the I/O is over; it waits for a cancellation that is being applied, so
// that it cannot hit later I/O. Calls after the first do nothing.
func watchContext(ctx context.Context, set func(time.Time) error) (stop func()) {
	d, _ := ctx.Deadline() // the zero time when none: no deadline
	_ = set(d)
	if ctx.Done() == nil {
		return func() {}
	}
	done := make(chan struct{})
	stopFunc := context.AfterFunc(ctx, func() {
		_ = set(longAgo)
		close(done)
	})
	stopped := false
	return func() {
		if stopped {
			return
		}
		stopped = true
		if !stopFunc() {
			<-done
		}
	}
}

// ctxErr returns ctx's error instead of err when err is a timeout caused by
// ctx (its deadline or its cancellation), and err otherwise.
func ctxErr(ctx context.Context, err error) error {
	if !isTimeout(err) {
		return err
	}
	if e := ctx.Err(); e != nil {
		return e
	}
	if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) {
		return context.DeadlineExceeded
	}
	return err
}

// isTimeout reports whether err is a deadline error of a net.Conn.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

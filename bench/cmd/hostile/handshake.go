package main

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"github.com/volley-ws/volley/bench/internal/wshead"
	"net"
	"strconv"
	"strings"
	"time"
)

// answer is the server's reply to an opening handshake.
type answer struct {
	status int    // 101 when upgraded
	ext    string // Sec-WebSocket-Extensions of a 101
	rest   []byte // bytes after the response head
}

// handshake sends an opening handshake for path on c (offering the
// extensions ext, if any) and reads the response head. A refusal is not an
// error: its status is returned. A 101 must carry the right
// Sec-WebSocket-Accept.
func handshake(c net.Conn, host, path, ext string) (answer, error) {
	var nonce [16]byte
	_, _ = rand.Read(nonce[:])
	key := base64.StdEncoding.EncodeToString(nonce[:])
	req := "GET " + path + " HTTP/1.1\r\n" +
		"Host: " + host + "\r\n" +
		"Upgrade: websocket\r\n" +
		"Connection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + key + "\r\n" +
		"Sec-WebSocket-Version: 13\r\n"
	if ext != "" {
		req += "Sec-WebSocket-Extensions: " + ext + "\r\n"
	}
	req += "\r\n"
	if _, err := c.Write([]byte(req)); err != nil {
		return answer{}, err
	}
	buf := make([]byte, 0, 1024)
	for {
		if len(buf) == cap(buf) {
			if len(buf) >= 16<<10 {
				return answer{}, errors.New("handshake response head over 16 KiB")
			}
			buf = append(buf, make([]byte, len(buf))...)[:len(buf)]
		}
		n, err := c.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if i := bytes.Index(buf, []byte("\r\n\r\n")); i >= 0 {
			a, err := parseAnswer(string(buf[:i]), key)
			a.rest = append([]byte(nil), buf[i+4:]...)
			return a, err
		}
		if err != nil {
			return answer{}, fmt.Errorf("handshake: %w (got %q)", err, buf)
		}
	}
}

// parseAnswer reads a response head; for a 101 it checks Upgrade,
// Connection and the accept key.
func parseAnswer(head, key string) (answer, error) {
	lines := strings.Split(head, "\r\n")
	f := strings.Fields(lines[0])
	if len(f) < 2 || !strings.HasPrefix(f[0], "HTTP/1.") {
		return answer{}, fmt.Errorf("handshake: bad status line %q", lines[0])
	}
	status, err := strconv.Atoi(f[1])
	if err != nil {
		return answer{}, fmt.Errorf("handshake: bad status line %q", lines[0])
	}
	a := answer{status: status}
	if status != 101 {
		return a, nil
	}
	a.ext, err = wshead.Check101(lines[1:], key)
	return a, err
}

// deflateAccepted reports whether a 101's extensions header accepted
// permessage-deflate.
func deflateAccepted(ext string) bool {
	for _, e := range strings.Split(ext, ",") {
		name, _, _ := strings.Cut(e, ";")
		if strings.EqualFold(strings.TrimSpace(name), "permessage-deflate") {
			return true
		}
	}
	return false
}

// dialOne connects to addr and, unless raw, performs the opening
// handshake, all within timeout. It fills in h.
func dialOne(h *hconn, addr, path, ext string, raw bool, timeout time.Duration) {
	d := net.Dialer{Timeout: timeout}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		h.failed = "dial error"
		h.err = err.Error()
		return
	}
	tc := c.(*net.TCPConn)
	h.c = tc
	h.port = tc.LocalAddr().(*net.TCPAddr).Port
	if raw {
		return
	}
	_ = tc.SetDeadline(time.Now().Add(timeout))
	a, err := handshake(tc, addr, path, ext)
	_ = tc.SetDeadline(time.Time{})
	h.status, h.ext, h.rest = a.status, a.ext, a.rest
	switch {
	case err != nil:
		h.failed = "handshake error"
		h.err = err.Error()
	case a.status != 101:
		h.failed = "refused " + strconv.Itoa(a.status)
	}
}

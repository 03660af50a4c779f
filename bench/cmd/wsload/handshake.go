package main

import (
	"bytes"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"net"
	"strings"
	"time"
)

const wsGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// dialer opens connections from a rotating set of loopback source
// addresses.
type dialer struct {
	addr    string
	path    string
	raw     bool
	sources []net.Dialer
	timeout time.Duration
}

func newDialer(addr, path string, raw bool, sources int, timeout time.Duration) *dialer {
	d := &dialer{addr: addr, path: path, raw: raw, timeout: timeout}
	for i := 1; i <= max(sources, 1); i++ {
		nd := net.Dialer{Timeout: timeout}
		if sources > 1 {
			nd.LocalAddr = &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(i))}
		}
		d.sources = append(d.sources, nd)
	}
	return d
}

// dial opens connection i and, in WebSocket mode, performs the opening
// handshake. It returns bytes the server sent after the handshake
// response, if any.
func (d *dialer) dial(i int) (*net.TCPConn, []byte, error) {
	c, err := d.sources[i%len(d.sources)].Dial("tcp", d.addr)
	if err != nil {
		return nil, nil, err
	}
	tc := c.(*net.TCPConn)
	if d.raw {
		return tc, nil, nil
	}
	_ = tc.SetDeadline(time.Now().Add(d.timeout))
	rest, err := handshake(tc, d.addr, d.path)
	if err != nil {
		tc.Close()
		return nil, nil, err
	}
	_ = tc.SetDeadline(time.Time{})
	return tc, rest, nil
}

// acceptKey is the Sec-WebSocket-Accept value for key.
func acceptKey(key string) string {
	h := sha1.Sum([]byte(key + wsGUID))
	return base64.StdEncoding.EncodeToString(h[:])
}

// handshake sends the opening handshake on c and checks the server's
// answer: status 101, Upgrade, Connection and the accept key.
func handshake(c net.Conn, host, path string) ([]byte, error) {
	var nonce [16]byte
	_, _ = rand.Read(nonce[:])
	key := base64.StdEncoding.EncodeToString(nonce[:])
	req := "GET " + path + " HTTP/1.1\r\n" +
		"Host: " + host + "\r\n" +
		"Upgrade: websocket\r\n" +
		"Connection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + key + "\r\n" +
		"Sec-WebSocket-Version: 13\r\n\r\n"
	if _, err := c.Write([]byte(req)); err != nil {
		return nil, err
	}
	buf := make([]byte, 0, 1024)
	for {
		if len(buf) == cap(buf) {
			if len(buf) >= 16<<10 {
				return nil, fmt.Errorf("handshake response head over 16 KiB")
			}
			buf = append(buf, make([]byte, len(buf))...)[:len(buf)]
		}
		n, err := c.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if i := bytes.Index(buf, []byte("\r\n\r\n")); i >= 0 {
			if err := checkResponse(string(buf[:i]), key); err != nil {
				return nil, err
			}
			return append([]byte(nil), buf[i+4:]...), nil
		}
		if err != nil {
			return nil, fmt.Errorf("handshake: %w (got %q)", err, buf)
		}
	}
}

func checkResponse(head, key string) error {
	lines := strings.Split(head, "\r\n")
	status := lines[0]
	if !strings.HasPrefix(status, "HTTP/1.1 101") {
		return fmt.Errorf("handshake refused: %q", status)
	}
	var upgrade, connection, accept bool
	for _, l := range lines[1:] {
		name, value, ok := strings.Cut(l, ":")
		if !ok {
			return fmt.Errorf("handshake: bad header line %q", l)
		}
		value = strings.TrimSpace(value)
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "upgrade":
			upgrade = strings.EqualFold(value, "websocket")
		case "connection":
			for _, tok := range strings.Split(value, ",") {
				if strings.EqualFold(strings.TrimSpace(tok), "upgrade") {
					connection = true
				}
			}
		case "sec-websocket-accept":
			accept = value == acceptKey(key)
		}
	}
	if !upgrade || !connection || !accept {
		return fmt.Errorf("handshake: bad 101 response (upgrade %v, connection %v, accept %v)", upgrade, connection, accept)
	}
	return nil
}

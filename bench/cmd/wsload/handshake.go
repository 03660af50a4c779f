package main

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"github.com/volley-ws/volley/bench/internal/wshead"
	"net"
	"strings"
	"time"
)

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
	_, err := wshead.Check101(lines[1:], key)
	return err
}

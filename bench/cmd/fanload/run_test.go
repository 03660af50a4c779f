//go:build linux

package main

import (
	"bufio"
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"

	"github.com/volley-ws/volley/bench/internal/wshead"
)

// hub is a minimal fan-out server for the tests: every message a
// connection sends goes to every connection; drop, when set, decides
// whether a delivery is left out (to check that fanload notices).
type hub struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
	drop  func(to int, msg int) bool
	msgs  int
}

func startHub(t *testing.T, drop func(to, msg int) bool) *hub {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := &hub{ln: ln, drop: drop}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go h.serve(c)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		h.mu.Lock()
		for _, c := range h.conns {
			c.Close()
		}
		h.mu.Unlock()
	})
	return h
}

func (h *hub) serve(c net.Conn) {
	r := bufio.NewReader(c)
	req, err := http.ReadRequest(r)
	if err != nil {
		c.Close()
		return
	}
	h.mu.Lock()
	_, err = io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Accept: "+wshead.AcceptKey(req.Header.Get("Sec-WebSocket-Key"))+"\r\n\r\n")
	h.conns = append(h.conns, c)
	h.mu.Unlock()
	if err != nil {
		return
	}
	for {
		var hd [2]byte
		if _, err := io.ReadFull(r, hd[:]); err != nil {
			return
		}
		n := int(hd[1] & 0x7F)
		if n == 126 {
			var ext [2]byte
			if _, err := io.ReadFull(r, ext[:]); err != nil {
				return
			}
			n = int(binary.BigEndian.Uint16(ext[:]))
		}
		var mask [4]byte
		p := make([]byte, n)
		if _, err := io.ReadFull(r, mask[:]); err != nil {
			return
		}
		if _, err := io.ReadFull(r, p); err != nil {
			return
		}
		for i := range p {
			p[i] ^= mask[i&3]
		}
		frame := serverFrame(true, hd[0]&0x0F, p)
		if hd[0]&0x0F == 0x8 { // close: answered, then the end
			h.mu.Lock()
			_, _ = c.Write(frame)
			h.mu.Unlock()
			c.Close()
			return
		}
		h.mu.Lock()
		msg := h.msgs
		h.msgs++
		for i, to := range h.conns {
			if h.drop == nil || !h.drop(i, msg) {
				_, _ = to.Write(frame)
			}
		}
		h.mu.Unlock()
	}
}

func testConfig(t *testing.T, addr string) *config {
	t.Helper()
	cfg, err := parseFlags([]string{"-addr", addr, "-subs", "20", "-pubs", "3", "-window", "4",
		"-duration", "300ms", "-warmup", "50ms", "-drain", "200ms", "-settle", "20ms", "-close-timeout", "1s"})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestRunAgainstHub runs the whole generator against a correct fan-out
// server: deliveries counted, nothing lost, every close answered.
func TestRunAgainstHub(t *testing.T) {
	h := startHub(t, nil)
	res, err := run(testConfig(t, h.ln.Addr().String()))
	if err != nil {
		t.Fatal(err)
	}
	if res.Opened != 20 || res.Deliveries == 0 || res.DeliveriesPerSec <= 0 || res.LatUS == nil || res.LatUS.P50 <= 0 {
		t.Fatalf("%+v", res)
	}
	if res.Lost+res.OrderErrors+res.Corrupt+res.ConnErrors+res.Undelivered != 0 {
		t.Fatalf("errors against a correct server: %+v", res)
	}
	if res.Delivered != res.Published*20 || res.ClosedOK != 20 {
		t.Fatalf("published %d, delivered %d, closed %d", res.Published, res.Delivered, res.ClosedOK)
	}
}

// TestRunNoticesLoss: a server that leaves out one message for one
// subscriber is caught (as a gap, since later messages arrive).
func TestRunNoticesLoss(t *testing.T) {
	h := startHub(t, func(to, msg int) bool { return to == 7 && msg == 10 })
	res, err := run(testConfig(t, h.ln.Addr().String()))
	if err != nil {
		t.Fatal(err)
	}
	if res.Lost != 1 || res.OrderErrors != 1 {
		t.Fatalf("lost %d, order errors %d; want 1 and 1", res.Lost, res.OrderErrors)
	}
}

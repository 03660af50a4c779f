// Package wsdial opens the connections of the benchmark load generators
// (wsload, fanload): TCP from a rotating set of loopback source addresses,
// then a real WebSocket opening handshake whose answer is checked.
package wsdial

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/volley-ws/volley/bench/internal/hist"
	"github.com/volley-ws/volley/bench/internal/wshead"
)

// Dialer opens connections to one address, or round robin to several.
// Dial may be called from many goroutines at once.
type Dialer struct {
	addrs   []string
	path    string
	raw     bool
	sources []net.Dialer
	timeout time.Duration
}

// New returns a Dialer for addr (host:port, or several separated by
// commas: connection i goes to the i-th modulo their number) that requests
// path (raw: plain TCP, no handshake), spreading connections over sources
// loopback source addresses 127.0.0.1..127.0.0.sources; timeout bounds
// connect plus handshake.
func New(addr, path string, raw bool, sources int, timeout time.Duration) *Dialer {
	d := &Dialer{addrs: strings.Split(addr, ","), path: path, raw: raw, timeout: timeout}
	for i := 1; i <= max(sources, 1); i++ {
		nd := net.Dialer{Timeout: timeout}
		if sources > 1 {
			nd.LocalAddr = &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(i))}
		}
		d.sources = append(d.sources, nd)
	}
	return d
}

// Dial opens connection i and, unless raw, performs the opening
// handshake. It returns bytes the server sent after the handshake
// response, if any.
func (d *Dialer) Dial(i int) (*net.TCPConn, []byte, error) {
	addr := d.addrs[i%len(d.addrs)]
	c, err := d.sources[i%len(d.sources)].Dial("tcp", addr)
	if err != nil {
		return nil, nil, err
	}
	tc := c.(*net.TCPConn)
	if d.raw {
		return tc, nil, nil
	}
	_ = tc.SetDeadline(time.Now().Add(d.timeout))
	rest, err := Handshake(tc, addr, d.path)
	if err != nil {
		tc.Close()
		return nil, nil, err
	}
	_ = tc.SetDeadline(time.Time{})
	return tc, rest, nil
}

// Handshake sends the opening handshake on c and checks the server's
// answer: status 101, Upgrade, Connection and the accept key. It returns
// the bytes that followed the answer's head.
func Handshake(c net.Conn, host, path string) ([]byte, error) {
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

// Opened is what OpenAll returns: slot i holds connection i, nil when it
// failed.
type Opened struct {
	Conns   []*net.TCPConn
	Rests   [][]byte        // bytes received after each handshake answer
	Lat     *hist.Histogram // connect + handshake times, ns
	Failed  int
	Elapsed time.Duration
}

// OpenAll opens n connections with d, parallel at a time, printing a
// progress line a second and the first ten errors to stderr, prefixed by
// name. Once stop is closed the remaining slots fail without a try.
func OpenAll(d *Dialer, n, parallel int, stop <-chan struct{}, name string) Opened {
	o := Opened{Conns: make([]*net.TCPConn, n), Rests: make([][]byte, n), Lat: new(hist.Histogram)}
	var next, opened, nfail atomic.Int64
	var mu sync.Mutex
	start := time.Now()
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				fmt.Fprintf(os.Stderr, "[%5.1fs open] %d/%d connections, %d failed\n",
					time.Since(start).Seconds(), opened.Load(), n, nfail.Load())
			}
		}
	}()
	var wg sync.WaitGroup
	var logged atomic.Int64
	for range min(max(parallel, 1), n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var local hist.Histogram
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					break
				}
				select {
				case <-stop:
					nfail.Add(1)
					continue
				default:
				}
				t0 := time.Now()
				c, rest, err := d.Dial(i)
				if err != nil {
					nfail.Add(1)
					if logged.Add(1) <= 10 {
						fmt.Fprintf(os.Stderr, "%s: conn %d: %v\n", name, i, err)
					}
					continue
				}
				local.Record(int64(time.Since(t0)))
				o.Conns[i], o.Rests[i] = c, rest
				opened.Add(1)
			}
			mu.Lock()
			o.Lat.Merge(&local)
			mu.Unlock()
		}()
	}
	wg.Wait()
	close(done)
	o.Failed, o.Elapsed = int(nfail.Load()), time.Since(start)
	return o
}

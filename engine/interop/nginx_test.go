package interop

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// nginxPath is Debian's nginx (apt-get install nginx-light, which depends
// on the nginx package that ships it).
const nginxPath = "/usr/sbin/nginx"

// nginxConf is the configuration the test runs nginx with: TLS on
// 127.0.0.1:{{PORT}}, everything proxied to the volley server on
// 127.0.0.1:{{UPSTREAM}}, WebSocket upgrades included. Every file nginx
// writes is in {{DIR}}, so it runs as any user without touching /etc/nginx
// or /var. README.md's "Running behind nginx (wss://)" has the same proxy
// settings.
const nginxConf = `daemon off;
master_process off;
worker_processes 1;
pid {{DIR}}/nginx.pid;
error_log {{DIR}}/error.log info;

events {
    worker_connections 64;
}

http {
    access_log {{DIR}}/access.log;
    client_body_temp_path {{DIR}}/client_body;
    proxy_temp_path {{DIR}}/proxy;
    fastcgi_temp_path {{DIR}}/fastcgi;
    uwsgi_temp_path {{DIR}}/uwsgi;
    scgi_temp_path {{DIR}}/scgi;

    # Connection: upgrade for WebSocket handshakes, close otherwise.
    map $http_upgrade $connection_upgrade {
        default upgrade;
        ''      close;
    }

    server {
        listen 127.0.0.1:{{PORT}} ssl;
        server_name localhost;
        ssl_certificate {{DIR}}/cert.pem;
        ssl_certificate_key {{DIR}}/key.pem;
        ssl_protocols TLSv1.2 TLSv1.3;

        location / {
            proxy_pass http://127.0.0.1:{{UPSTREAM}};
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            # $http_host keeps the port: the server's same-origin check
            # compares the browser's Origin (https://host:port) with Host.
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            # WebSockets are long-lived: the server pings idle ones every
            # 30 s (IdleTimeout/2), well within these.
            proxy_read_timeout 1h;
            proxy_send_timeout 1h;
        }
    }
}
`

// TestNginxTLS runs the server behind an nginx reverse proxy that terminates
// TLS, with the configuration README.md documents, and a gorilla/websocket
// client (compression enabled) that dials wss:// through it: the demo page
// is served over https, the handshake gets permessage-deflate, text and
// binary messages of 0 B to 1 MiB come back intact (compressed on the
// wire), a same-origin handshake is accepted and a cross-origin one gets
// 403, and the close code and reason reach the server and come back.
func TestNginxTLS(t *testing.T) {
	requireProgram(t, nginxPath, "nginx", "nginx-light")
	for _, so := range []serverOptions{
		{api: "blocking", compression: true},
		{api: "event", compression: true},
	} {
		t.Run(so.String(), func(t *testing.T) {
			srv := startEchoServer(t, so)
			dir := t.TempDir()
			roots := writeTestCert(t, dir)
			port := startNginx(t, dir, srv.port())
			base := "127.0.0.1:" + port
			tlsConf := &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}

			// The page, over https.
			tr := &http.Transport{TLSClientConfig: tlsConf}
			defer tr.CloseIdleConnections()
			resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Get("https://" + base + "/")
			if err != nil {
				t.Fatalf("GET https://%s/ through nginx: %v", base, err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !bytes.Contains(body, []byte("new WebSocket(url)")) {
				t.Fatalf("GET / through nginx: %d %q", resp.StatusCode, body[:min(len(body), 200)])
			}

			// A handshake from another origin is refused by the server.
			var wire atomic.Int64
			dialer := &websocket.Dialer{
				TLSClientConfig:   tlsConf,
				EnableCompression: true,
				HandshakeTimeout:  10 * time.Second,
				NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
					c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
					if err != nil {
						return nil, err
					}
					return &countingConn{Conn: c, read: &wire}, nil
				},
			}
			url := "wss://" + base + "/echo"
			_, resp, err = dialer.Dial(url, http.Header{"Origin": {"https://evil.example"}})
			if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
				t.Errorf("cross-origin handshake through nginx: %v %v, want 403", err, resp)
			}

			// The page's handshake: Origin is the page's, https and nginx's port.
			origin := "https://" + base
			c, resp, err := dialer.Dial(url, http.Header{"Origin": {origin}})
			if err != nil {
				if resp != nil {
					t.Fatalf("dial %s: %v (%s)", url, err, resp.Status)
				}
				t.Fatalf("dial %s: %v", url, err)
			}
			defer c.Close()
			ext := resp.Header.Get("Sec-WebSocket-Extensions")
			if !hasDeflate(ext) {
				t.Errorf("Sec-WebSocket-Extensions in the 101 through nginx: %q, want permessage-deflate%s", ext, noCompressionYet)
			}
			wire.Store(0) // count the echoes only
			sent, payload := nginxExchange(t, c)
			ratio := float64(wire.Load()) / float64(payload)
			t.Logf("%d messages, %d bytes echoed; %d bytes on the wire from nginx (%.2f)", sent, payload, wire.Load(), ratio)
			if hasDeflate(ext) && ratio > 0.75 {
				t.Errorf("the echoes are not compressed: %d bytes of TLS for %d bytes of messages", wire.Load(), payload)
			}

			reason := "bye through nginx"
			c.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(4002, reason))
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			_, _, err = c.ReadMessage()
			var ce *websocket.CloseError
			if !errors.As(err, &ce) || ce.Code != 4002 || ce.Text != srv.echoReason(reason) {
				t.Errorf("the close answer through nginx: %v, want 4002 %q", err, srv.echoReason(reason))
			}
			rec := srv.nextRecord(t, "", 10*time.Second)
			srv.checkClose(t, rec, 4002, reason)
			if !hasDeflate(rec.Offer) {
				t.Errorf("nginx did not pass gorilla's Sec-WebSocket-Extensions offer on: the server saw %q", rec.Offer)
			}
			if rec.Origin != origin || rec.Host != base {
				t.Errorf("the server saw Origin %q and Host %q, want %q and %q", rec.Origin, rec.Host, origin, base)
			}
			if rec.Text+rec.Binary != sent {
				t.Errorf("the server received %d messages, the client sent %d", rec.Text+rec.Binary, sent)
			}
		})
	}
}

// nginxExchange sends text and binary messages of many sizes over c, one
// at a time and then 50 in a row, checks every echo, and returns how many
// messages it sent and the bytes of all the echoes.
func nginxExchange(t *testing.T, c *websocket.Conn) (sent int, payload int64) {
	t.Helper()
	type msg struct {
		what string
		typ  int
		data []byte
	}
	var list []msg
	for _, n := range []int{0, 1, 125, 126, 127, 1000, 65535, 65536, 200000, 1 << 20} {
		list = append(list,
			msg{fmt.Sprintf("%d B JSON-like text", n), websocket.TextMessage, jsonLike(n)},
			msg{fmt.Sprintf("%d B random binary", n), websocket.BinaryMessage, randomBytes(t, n)},
			msg{fmt.Sprintf("%d B compressible binary", n), websocket.BinaryMessage, compressibleBytes(n)},
		)
	}
	for _, n := range []int{10, 1000, 100000} {
		list = append(list, msg{fmt.Sprintf("~%d B non-ASCII text", n), websocket.TextMessage,
			bytes.Repeat([]byte("héllo wörld ✓ 日本語 🎉 "), n/30+1)})
	}
	check := func(m msg) {
		t.Helper()
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		typ, got, err := c.ReadMessage()
		if err != nil {
			t.Fatalf("echo of %s: %v", m.what, err)
		}
		if typ != m.typ || !bytes.Equal(got, m.data) {
			t.Errorf("echo of %s: type %d, %d bytes, equal %v", m.what, typ, len(got), bytes.Equal(got, m.data))
		}
		payload += int64(len(got))
	}
	for _, m := range list {
		c.SetWriteDeadline(time.Now().Add(10 * time.Second))
		if err := c.WriteMessage(m.typ, m.data); err != nil {
			t.Fatalf("send %s: %v", m.what, err)
		}
		sent++
		check(m)
	}
	// 50 in a row, written from another goroutine while the echoes are
	// read: neither side waits for the other.
	var burst []msg
	for i := range 50 {
		n := 16 << (i % 12)
		if i%3 == 2 {
			burst = append(burst, msg{fmt.Sprintf("burst %d: %d B random binary", i, n), websocket.BinaryMessage, randomBytes(t, n)})
		} else {
			burst = append(burst, msg{fmt.Sprintf("burst %d: %d B JSON-like text", i, n), websocket.TextMessage, jsonLike(n)})
		}
	}
	werr := make(chan error, 1)
	go func() {
		for _, m := range burst {
			c.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if err := c.WriteMessage(m.typ, m.data); err != nil {
				werr <- err
				return
			}
		}
		werr <- nil
	}()
	for _, m := range burst {
		check(m)
	}
	if err := <-werr; err != nil {
		t.Fatalf("burst: %v", err)
	}
	return sent + len(burst), payload
}

// jsonLike returns n bytes of JSON-like lines, which compress well.
func jsonLike(n int) []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, `{"id":%d,"user":"user-%d","kind":"chat","text":"the quick brown fox jumps over the lazy dog","ts":%d}`+"\n", i, i%17, 1700000000+i)
	}
	return b.Bytes()[:n]
}

func randomBytes(t *testing.T, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func compressibleBytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		if i%64 >= 48 {
			b[i] = byte(i)
		}
	}
	return b
}

// countingConn counts the bytes read from a connection.
type countingConn struct {
	net.Conn
	read *atomic.Int64
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.read.Add(int64(n))
	return n, err
}

// writeTestCert writes a self-signed ECDSA P-256 certificate for 127.0.0.1
// and localhost to dir/cert.pem and its key to dir/key.pem, and returns a
// pool that trusts it.
func writeTestCert(t *testing.T, dir string) *x509.CertPool {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "volley test"},
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	if err := os.WriteFile(filepath.Join(dir, "cert.pem"), certPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "key.pem"), keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	return pool
}

// startNginx writes nginx.conf into dir (which holds cert.pem and key.pem),
// starts nginx on a free port of 127.0.0.1 proxying to upstreamPort, and
// returns its port once it accepts connections. nginx is stopped, by its
// pid, when the test ends.
func startNginx(t *testing.T, dir, upstreamPort string) string {
	t.Helper()
	var lastErr string
	for attempt := 0; attempt < 3; attempt++ {
		port := freePort(t)
		conf := strings.NewReplacer("{{DIR}}", dir, "{{PORT}}", port, "{{UPSTREAM}}", upstreamPort).Replace(nginxConf)
		confPath := filepath.Join(dir, "nginx.conf")
		if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
			t.Fatal(err)
		}
		// -e: the error log before the configuration is read (the default
		// is under /var/log).
		cmd := exec.Command(nginxPath, "-p", dir, "-c", confPath, "-e", filepath.Join(dir, "error.log"))
		var out lockedBuffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatalf("start nginx: %v", err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		if waitListening(net.JoinHostPort("127.0.0.1", port), exited, 10*time.Second) {
			t.Cleanup(func() { stopNginx(t, cmd, exited, dir) })
			return port
		}
		// It exited (a port taken between freePort and nginx's bind) or
		// never listened.
		cmd.Process.Kill()
		err := <-exited
		log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
		lastErr = fmt.Sprintf("nginx on port %s: %v\noutput: %s\nerror.log:\n%s", port, err, out.String(), log)
		if !bytes.Contains(log, []byte("Address already in use")) {
			break
		}
	}
	t.Fatal(lastErr)
	return ""
}

// stopNginx stops the nginx this test started: SIGTERM (fast shutdown),
// then SIGKILL if it has not exited after 5 s.
func stopNginx(t *testing.T, cmd *exec.Cmd, exited chan error, dir string) {
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
		t.Errorf("nginx (pid %d) did not exit on SIGTERM; killing it", cmd.Process.Pid)
		cmd.Process.Kill()
		<-exited
	}
	if t.Failed() {
		log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
		t.Logf("nginx error.log:\n%s", log)
	}
}

// freePort returns a port of 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port
}

// waitListening waits until addr accepts a TCP connection, and reports
// false if the process exits first (its exit error is put back in exited)
// or wait passes.
func waitListening(addr string, exited chan error, wait time.Duration) bool {
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			exited <- err
			return false
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

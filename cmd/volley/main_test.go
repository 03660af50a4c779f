package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/volley-ws/volley/internal/leakcheck"
	"github.com/volley-ws/volley/internal/wsclient"
)

// TestMain fails the run when the tests leave goroutines behind (a server
// not shut down, a client or a process watcher; see internal/leakcheck).
func TestMain(m *testing.M) { leakcheck.Main(m) }

func TestParseFlags(t *testing.T) {
	o, err := parseFlags(nil)
	if err != nil || o.api != "blocking" || o.cfg.Addr != "127.0.0.1:8080" || o.natsURL != "" {
		t.Fatalf("defaults: %+v %v", o, err)
	}
	o, err = parseFlags([]string{"-addr", "127.0.0.1:0", "-api", "event", "-max-message", "1024", "-nats", "nats://127.0.0.1:4222"})
	if err != nil || o.api != "event" || o.cfg.MaxMessageSize != 1024 || o.natsURL != "nats://127.0.0.1:4222" {
		t.Fatalf("flags: %+v %v", o, err)
	}
	for _, bad := range [][]string{{"-api", "threads"}, {"stray"}, {"-loops", "x"}} {
		if _, err := parseFlags(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// TestServer runs the binary's server with both APIs: the page is served
// on /, and /echo echoes text and binary with their types.
func TestServer(t *testing.T) {
	for _, api := range []string{"blocking", "event"} {
		t.Run(api, func(t *testing.T) {
			srv := startServer(t, "-api", api)
			base := srv.Addr().String()

			resp, err := http.Get("http://" + base + "/")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !bytes.Contains(body, []byte(`new WebSocket(url)`)) {
				t.Fatalf("page: %d %q", resp.StatusCode, body[:min(len(body), 80)])
			}

			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			defer cancel()
			c, _, err := wsclient.Dial(ctx, "ws://"+base+"/echo", nil)
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseNow()
			for _, m := range []struct {
				typ  wsclient.MessageType
				data []byte
			}{{wsclient.Text, []byte("héllo")}, {wsclient.Binary, []byte{0, 1, 2, 255}}, {wsclient.Text, nil}} {
				if err := c.Send(m.typ, m.data); err != nil {
					t.Fatal(err)
				}
				typ, got, err := c.Receive(ctx)
				if err != nil || typ != m.typ || !bytes.Equal(got, m.data) {
					t.Fatalf("echo of %q: %v %q %v", m.data, typ, got, err)
				}
			}
			c.SendClose(4000, "done")
			_, _, err = c.Receive(ctx)
			var ce *wsclient.CloseError
			if !errors.As(err, &ce) || ce.Code != 4000 {
				t.Fatalf("close answer: %v", err)
			}
		})
	}
}

// TestNATSUnreachable: with -nats naming a port nothing listens on, the
// server does not start, and the error says which flag is at fault.
func TestNATSUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	o, err := parseFlags([]string{"-addr", "127.0.0.1:0", "-nats", "nats://" + addr})
	if err != nil {
		t.Fatal(err)
	}
	if srv, err := newServer(o); err == nil || !strings.Contains(err.Error(), "-nats") {
		if srv != nil {
			srv.Shutdown(context.Background())
		}
		t.Fatalf("newServer: %v, want an error naming -nats", err)
	}
}

package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

func TestParseFlags(t *testing.T) {
	o, err := parseFlags(nil)
	if err != nil || o.api != "blocking" || o.cfg.Addr != "127.0.0.1:8080" {
		t.Fatalf("defaults: %+v %v", o, err)
	}
	o, err = parseFlags([]string{"-addr", "127.0.0.1:0", "-api", "event", "-max-message", "1024"})
	if err != nil || o.api != "event" || o.cfg.MaxMessageSize != 1024 {
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
			o, err := parseFlags([]string{"-addr", "127.0.0.1:0", "-api", api})
			if err != nil {
				t.Fatal(err)
			}
			srv := newServer(o)
			if err := srv.Start(); err != nil {
				t.Fatal(err)
			}
			defer srv.Shutdown(context.Background())
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

			c, _, err := websocket.DefaultDialer.Dial("ws://"+base+"/echo", nil)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			for _, m := range []struct {
				typ  int
				data []byte
			}{{websocket.TextMessage, []byte("héllo")}, {websocket.BinaryMessage, []byte{0, 1, 2, 255}}, {websocket.TextMessage, nil}} {
				if err := c.WriteMessage(m.typ, m.data); err != nil {
					t.Fatal(err)
				}
				typ, got, err := c.ReadMessage()
				if err != nil || typ != m.typ || !bytes.Equal(got, m.data) {
					t.Fatalf("echo of %q: %d %q %v", m.data, typ, got, err)
				}
			}
			c.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(4000, "done"))
			_, _, err = c.ReadMessage()
			if ce, ok := err.(*websocket.CloseError); !ok || ce.Code != 4000 {
				t.Fatalf("close answer: %v", err)
			}
		})
	}
}

package interop

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	coder "github.com/coder/websocket"
	"github.com/gorilla/websocket"

	"github.com/volley-ws/volley/engine"
	"github.com/volley-ws/volley/upgrade"
)

// dfJSON returns n bytes of compressible chat-like JSON text.
func dfJSON(n int, seed int) []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, `{"id":%d,"user":"user%d","text":"hello from the compression test","seq":%d},`, seed*1000+i, (seed+i)%17, i)
	}
	return b.Bytes()[:n]
}

var dfSizes = []int{16, 100, 127, 128, 1000, 4096, 16 << 10, 64 << 10, 128 << 10}

// dfStart starts a server with compression z on the blocking echo route
// and the event echo route.
func dfStart(t *testing.T, z upgrade.Compression) *icInteropServer {
	t.Helper()
	s := &icInteropServer{echoClosed: make(chan icCloseInfo, 16), eventsClosed: make(chan icCloseInfo, 16)}
	cfg := engine.Config{}
	cfg.Upgrade.Compression = z
	s.icServer = icStart(t, cfg, func(srv *engine.Server) {
		srv.HandleFunc(icEchoPath, icRecordingEcho(s.echoClosed))
		srv.HandleEvents(icEventsPath, icEventEcho{closed: s.eventsClosed})
	})
	return s
}

// TestDeflateInteropCoder: coder/websocket negotiates permessage-deflate
// with and without context takeover; every size from 16 B to 128 KiB, text
// and binary, several rounds in a row, round trips through both APIs.
func TestDeflateInteropCoder(t *testing.T) {
	for _, takeover := range []bool{false, true} {
		s := dfStart(t, upgrade.Compression{Enabled: true, ContextTakeover: takeover, MinSize: -1})
		for _, mode := range []coder.CompressionMode{coder.CompressionNoContextTakeover, coder.CompressionContextTakeover} {
			for _, path := range []string{icEchoPath, icEventsPath} {
				t.Run(fmt.Sprintf("server-takeover=%v/client=%v%s", takeover, mode, path), func(t *testing.T) {
					ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
					defer cancel()
					c, resp, err := coder.Dial(ctx, s.url(path), &coder.DialOptions{CompressionMode: mode, CompressionThreshold: 1})
					if err != nil {
						t.Fatal(err)
					}
					defer c.CloseNow()
					ext := resp.Header.Get("Sec-WebSocket-Extensions")
					if !strings.HasPrefix(ext, "permessage-deflate") {
						t.Fatalf("Sec-WebSocket-Extensions %q", ext)
					}
					c.SetReadLimit(1 << 20)
					for round := range 3 {
						for i, n := range dfSizes {
							typ := coder.MessageText
							if i%2 == 1 {
								typ = coder.MessageBinary
							}
							want := dfJSON(n, round*100+i)
							if err := c.Write(ctx, typ, want); err != nil {
								t.Fatal(err)
							}
							gt, got, err := c.Read(ctx)
							if err != nil || gt != typ || !bytes.Equal(got, want) {
								t.Fatalf("round %d size %d: %v %v equal=%v", round, n, err, gt, bytes.Equal(got, want))
							}
						}
					}
					if err := c.Close(4000, "bye"); err != nil {
						t.Fatalf("close: %v", err)
					}
				})
			}
		}
	}
}

// TestDeflateInteropGorilla: gorilla/websocket (no context takeover).
func TestDeflateInteropGorilla(t *testing.T) {
	s := dfStart(t, upgrade.Compression{Enabled: true, ContextTakeover: true})
	for _, path := range []string{icEchoPath, icEventsPath} {
		t.Run(path, func(t *testing.T) {
			d := websocket.Dialer{HandshakeTimeout: icTimeout, EnableCompression: true}
			c, resp, err := d.Dial(s.url(path), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if ext := resp.Header.Get("Sec-WebSocket-Extensions"); !strings.Contains(ext, "client_no_context_takeover") {
				t.Fatalf("Sec-WebSocket-Extensions %q", ext)
			}
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			for round := range 3 {
				for i, n := range dfSizes {
					want := dfJSON(n, round*100+i)
					if err := c.WriteMessage(websocket.TextMessage, want); err != nil {
						t.Fatal(err)
					}
					typ, got, err := c.ReadMessage()
					if err != nil || typ != websocket.TextMessage || !bytes.Equal(got, want) {
						t.Fatalf("round %d size %d: %v equal=%v", round, n, err, bytes.Equal(got, want))
					}
				}
			}
		})
	}
}

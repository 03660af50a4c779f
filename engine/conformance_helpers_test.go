package engine_test

// Shared helpers of the RFC 6455 conformance tests (conformance_*_test.go).
// The tests are grouped like the sections of the Autobahn testsuite and run
// against three echo endpoints of the same server: /echo, a blocking
// conn.WebSocket handler; /events, an EventHandler echoing with Send; and
// /events-nocopy, one echoing with SendNoCopy. Run as subtests of
// TestBridgeConformance, they test the same endpoints through the net/http
// bridge (see cfStart).

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/volley-ws/volley/conn"
	"github.com/volley-ws/volley/engine"
	"github.com/volley-ws/volley/internal/wstest"
	"github.com/volley-ws/volley/upgrade"
)

// Paths of the echo endpoints started by cfStart.
const (
	cfBlockingPath = "/echo"
	cfEventsPath   = "/events"
	cfNoCopyPath   = "/events-nocopy" // the event API echoing with SendNoCopy
)

// cfPaths lists the echo endpoints; tests run their cases on each.
var cfPaths = []string{cfBlockingPath, cfEventsPath, cfNoCopyPath}

// cfTCPBound bounds the wait for the server's TCP close after its close
// frame.
const cfTCPBound = 2 * time.Second

// cfEcho is the blocking echo handler: every text and binary message is
// sent back with its type, and the peer's close is answered with its code.
func cfEcho(ctx *upgrade.Context) {
	up := ctx.Upgrader()
	if up == nil {
		ctx.SetStatusCode(400)
		return
	}
	ws, err := up.Upgrade()
	if err != nil {
		return
	}
	for ws.State() == conn.StateOpen {
		msg, err := ws.Receive()
		if err != nil {
			return
		}
		switch msg.Type {
		case conn.Text, conn.Binary:
			if err := ws.Send(msg.Type, msg.Data); err != nil {
				return
			}
		case conn.Close:
			_ = ws.SendClose(msg.CloseStatus, "")
		}
	}
}

// cfEventEcho is the event-API echo: OnMessage sends the message back with
// its type. The engine answers the peer's close itself.
type cfEventEcho struct{}

func (cfEventEcho) OnOpen(*engine.Conn) {}

func (cfEventEcho) OnMessage(c *engine.Conn, t conn.MessageType, p []byte) {
	_ = c.Send(t, p)
}

func (cfEventEcho) OnClose(*engine.Conn, error) {}

// cfNoCopyEcho is cfEventEcho with SendNoCopy: a payload from 1 KiB on is
// written from the server's input buffer.
type cfNoCopyEcho struct{ cfEventEcho }

func (cfNoCopyEcho) OnMessage(c *engine.Conn, t conn.MessageType, p []byte) {
	_ = c.SendNoCopy(t, p)
}

// cfStart starts a server with cfg (Addr and EventLoops filled in when
// zero) serving cfEcho on cfBlockingPath and cfEventEcho on cfEventsPath,
// and shuts it down when the test ends. It returns the listening address.
// Under TestBridgeConformance the server runs with Config.BridgeOnly,
// mounted on a net/http server, whose address it returns.
func cfStart(t *testing.T, cfg engine.Config) string {
	t.Helper()
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.EventLoops == 0 {
		cfg.EventLoops = 2
	}
	bridged := strings.HasPrefix(t.Name(), "TestBridgeConformance/")
	cfg.BridgeOnly = cfg.BridgeOnly || bridged
	srv := engine.New(cfg)
	srv.HandleFunc(cfBlockingPath, cfEcho)
	srv.HandleEvents(cfEventsPath, cfEventEcho{})
	srv.HandleEvents(cfNoCopyPath, cfNoCopyEcho{})
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	if bridged {
		return bridgeServe(t, srv)
	}
	return srv.Addr().String()
}

// cfExpectFail asserts that the server fails the connection: its next
// frame is a close frame with code (nothing is echoed before it) and it
// then ends the TCP connection within cfTCPBound without sending more.
func cfExpectFail(t *testing.T, c *wstest.Conn, code int) {
	t.Helper()
	if before := c.ExpectClose(code); len(before) != 0 {
		t.Fatalf("frames before close %d: %v", code, before)
	}
	c.ExpectTCPClosed(cfTCPBound)
}

// cfExpectEcho reads one frame and checks that it is a whole message of
// type op carrying payload.
func cfExpectEcho(t *testing.T, c *wstest.Conn, op byte, payload []byte) {
	t.Helper()
	f := c.MustReadFrame()
	if !f.Fin || f.Opcode != op || !bytes.Equal(f.Payload, payload) {
		t.Fatalf("got %v, want fin=true op=%#x len=%d payload=%q", f, op, len(payload), cfShort(payload))
	}
}

// cfExpectCloseBytes reads one frame and checks that it is a close frame
// whose payload is exactly want, then that the server ends TCP.
func cfExpectCloseBytes(t *testing.T, c *wstest.Conn, want []byte) {
	t.Helper()
	f := c.MustReadFrame()
	if f.Opcode != wstest.OpClose || !f.Fin || !bytes.Equal(f.Payload, want) {
		t.Fatalf("got %v, want close with payload %x", f, want)
	}
	c.ExpectTCPClosed(cfTCPBound)
}

// cfCloseCleanly completes the closing handshake from the client with
// 1000 and checks the echo and the TCP close: the connection was still
// healthy.
func cfCloseCleanly(t *testing.T, c *wstest.Conn) {
	t.Helper()
	c.WriteClose(1000, "")
	cfExpectCloseBytes(t, c, []byte{0x03, 0xe8})
}

// cfShort trims p for messages.
func cfShort(p []byte) []byte {
	if len(p) > 32 {
		return p[:32]
	}
	return p
}

// cfPattern returns n bytes of a repeating, position-dependent ASCII
// pattern (valid UTF-8, so usable for text too), unlike a constant that
// would hide reordered or duplicated chunks.
func cfPattern(n int) []byte {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_-"
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[(i*7+i/64)%len(alphabet)]
	}
	return b
}

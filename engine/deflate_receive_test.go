package engine_test

import (
	"errors"
	"testing"
	"time"

	"github.com/volley-ws/volley/conn"
	"github.com/volley-ws/volley/engine"
	"github.com/volley-ws/volley/internal/wstest"
	"github.com/volley-ws/volley/upgrade"
)

// TestDeflateReceiveFailure: the blocking API inflates on the handler's
// goroutine, so a compressed message that does not inflate is reported by
// Receive: a *CloseError with the code sent to the peer, StateAborted, the
// same error from every later Receive, and the close frame and the end of
// the TCP connection on the wire.
func TestDeflateReceiveFailure(t *testing.T) {
	cases := []struct {
		name    string
		op      byte
		payload []byte
		code    conn.StatusCode
	}{
		{"bad data", wstest.OpBinary, []byte{0xff, 0xff, 0xff}, conn.StatusInvalidPayloadData},
		// "\xff" stored: valid DEFLATE, invalid UTF-8.
		{"invalid text", wstest.OpText, []byte{0x00, 0x01, 0x00, 0xfe, 0xff, 0xff}, conn.StatusInvalidPayloadData},
		// 4 KiB of zeros against a 1 KiB limit.
		{"too big", wstest.OpBinary, pdZeros(4096), conn.StatusMessageTooBig},
	}
	type result struct {
		first, second error
		state         conn.State
	}
	results := make(chan result, 1)
	cfg := engine.Config{MaxMessageSize: 1024}
	cfg.Upgrade.Compression = upgrade.Compression{Enabled: true}
	s := icStart(t, cfg, func(srv *engine.Server) {
		srv.HandleFunc("/recv", func(ctx *upgrade.Context) {
			ws, err := ctx.Upgrader().Upgrade()
			if err != nil {
				return
			}
			_, first := ws.Receive()
			_, second := ws.Receive()
			results <- result{first, second, ws.State()}
		})
	})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, ext := wstest.DialExtensions(t, s.addr, "/recv", "permessage-deflate")
			if len(ext) == 0 {
				t.Fatal("permessage-deflate not negotiated")
			}
			c.WriteFrame(true, wstest.RSV1, tc.op, tc.payload, true)
			c.ExpectClose(int(tc.code))
			c.ExpectTCPClosed(2 * time.Second)
			r := icRecv(t, results, icTimeout, "the handler's Receive results")
			var ce *conn.CloseError
			if !errors.As(r.first, &ce) || ce.Code != tc.code {
				t.Fatalf("Receive returned %v, want a *CloseError with code %d", r.first, tc.code)
			}
			if r.second != r.first {
				t.Errorf("the second Receive returned %v, want the same error", r.second)
			}
			if r.state != conn.StateAborted {
				t.Errorf("state %v, want StateAborted", r.state)
			}
		})
	}
}

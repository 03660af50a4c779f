package engine_test

import (
	"testing"
	"time"

	"github.com/volley-ws/volley/engine"
	"github.com/volley-ws/volley/upgrade"
)

// TestDeflateCompressorsReleased checks the memory cap of compression:
// without context takeover no connection keeps a compressor after a
// message; with it, each active connection keeps one, and every one goes
// back to the pool IdleRelease after the connection's last message, and
// when the connection ends.
func TestDeflateCompressorsReleased(t *testing.T) {
	const conns = 300
	msgs := dbMessages(1024)[:1]
	for _, takeover := range []bool{false, true} {
		z := upgrade.Compression{Enabled: true, ContextTakeover: takeover}
		const idleRelease = time.Second
		srv := dbServer(t, z, idleRelease)
		for _, api := range []string{"event", "block"} {
			start := time.Now()
			cls := make([]*dbClient, 0, conns)
			for range conns {
				cl := dbDialOffer(t, srv.Addr().String(), "/"+api, msgs, 1, "permessage-deflate", 4096)
				cl.roundTrip(t)
				if cl.wireBytes >= 1024 {
					t.Fatalf("%s: the echo of a 1 KiB message took %d bytes: not compressed", api, cl.wireBytes)
				}
				cls = append(cls, cl)
			}
			held := engine.HeldCompressors(srv)
			if !takeover && held != 0 {
				t.Fatalf("%s without context takeover: %d connections hold a compressor after their message", api, held)
			}
			// Every connection holds one unless the first ones were released
			// already (a slow machine took more than IdleRelease to dial).
			if takeover && held != conns && (time.Since(start) < idleRelease/2 || held == 0) {
				t.Fatalf("%s with context takeover: %d connections hold a compressor right after their message, want %d", api, held, conns)
			}
			deadline := time.Now().Add(5 * time.Second)
			for engine.HeldCompressors(srv) != 0 {
				if time.Now().After(deadline) {
					t.Fatalf("%s: %d compressors still held 5s after the last message (IdleRelease 1s)", api, engine.HeldCompressors(srv))
				}
				time.Sleep(20 * time.Millisecond)
			}
			// The context survives the release: messages keep flowing.
			for _, cl := range cls {
				cl.roundTrip(t)
			}
			for _, cl := range cls {
				cl.c.Close()
			}
			for engine.HeldCompressors(srv) != 0 {
				if time.Now().After(deadline.Add(5 * time.Second)) {
					t.Fatalf("%s: %d compressors still held after every connection closed", api, engine.HeldCompressors(srv))
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
	}
}

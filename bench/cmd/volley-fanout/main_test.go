package main

import (
	"bytes"
	"io"
	"net"
	"testing"
	"time"

	"github.com/volley-ws/volley/bench/internal/wsdial"
	"github.com/volley-ws/volley/bench/internal/wsframe"
)

// TestFanout: in every mode a message one connection sends reaches every
// connection, the sender included, with its type.
func TestFanout(t *testing.T) {
	for _, args := range [][]string{
		{"-api", "event"},
		{"-api", "blocking"},
		{"-api", "event", "-mode", "registry"},
		{"-api", "blocking", "-mode", "registry"},
	} {
		t.Run(args[1]+"-"+args[len(args)-1], func(t *testing.T) {
			o, err := parseFlags(append([]string{"-addr", "127.0.0.1:0"}, args...))
			if err != nil {
				t.Fatal(err)
			}
			srv := newServer(o)
			if err := srv.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = srv.Shutdown(t.Context()) })
			d := wsdial.New(srv.Addr().String(), "/fanout", false, 1, 5*time.Second)
			var conns []net.Conn
			for i := range 3 {
				c, rest, err := d.Dial(i)
				if err != nil {
					t.Fatal(err)
				}
				if len(rest) > 0 {
					t.Fatalf("bytes after the handshake: %q", rest)
				}
				t.Cleanup(func() { c.Close() })
				conns = append(conns, c)
			}
			time.Sleep(100 * time.Millisecond) // the blocking handlers subscribe after Upgrade
			for _, op := range []byte{wsframe.OpText, wsframe.OpBinary} {
				msg := []byte("hello, subscribers")
				if _, err := conns[1].Write(wsframe.AppendClient(nil, op, msg, [4]byte{1, 2, 3, 4})); err != nil {
					t.Fatal(err)
				}
				want := append([]byte{0x80 | op, byte(len(msg))}, msg...)
				for i, c := range conns {
					got := make([]byte, len(want))
					_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
					if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, want) {
						t.Fatalf("conn %d: got % x (%v), want % x", i, got, err, want)
					}
				}
			}
		})
	}
}

func TestParseFlags(t *testing.T) {
	for _, args := range [][]string{{"-api", "async"}, {"-mode", "rooms"}, {"extra"}} {
		if _, err := parseFlags(args); err == nil {
			t.Errorf("%q accepted", args)
		}
	}
}

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/volley-ws/volley/internal/servertest"
	"github.com/volley-ws/volley/internal/wsclient"
)

// TestLogFlags: -log-level, -log-format and -access-log parse, and a bad
// value is an error naming the flag and the value.
func TestLogFlags(t *testing.T) {
	o, err := parseFlags(nil)
	if err != nil || o.log.level != "info" || o.log.format != "text" || o.log.access {
		t.Fatalf("defaults: %+v %v", o.log, err)
	}
	if l, a := o.log.loggers(); l == nil || a != nil {
		t.Errorf("default loggers: %v, access log %v", l, a)
	}
	o, err = parseFlags([]string{"-log-level", "debug", "-log-format", "json", "-access-log"})
	if err != nil || o.log.level != "debug" || o.log.format != "json" || !o.log.access {
		t.Fatalf("flags: %+v %v", o.log, err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-log-level", "verbose"}, `-log-level must be debug, info, warn or error, not "verbose"`},
		{[]string{"-log-format", "xml"}, `-log-format must be text or json, not "xml"`},
		{[]string{"-access-log=maybe"}, `-access-log`},
	} {
		if _, err := parseFlags(tc.args); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want an error saying %s", tc.args, err, tc.want)
		}
	}
}

// TestServerLogs: with -log-level debug -log-format json -access-log, the
// server's records are JSON lines: an access record for a handshake, a
// Debug record for a refused one.
func TestServerLogs(t *testing.T) {
	o, err := parseFlags([]string{"-addr", "127.0.0.1:0", "-log-level", "debug", "-log-format", "json", "-access-log"})
	if err != nil {
		t.Fatal(err)
	}
	out := &servertest.Log{}
	o.log.out = out
	srv, err := newServer(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	addr := srv.Addr().String()

	ctx, cancel := context.WithTimeout(t.Context(), wait)
	defer cancel()
	c, _, err := wsclient.Dial(ctx, "ws://"+addr+"/echo", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	fmt.Fprintf(nc, "GET /echo HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n", addr)

	want := map[string]bool{"volley: handshake 101": false, "volley: handshake 426": false, "volley: handshake refused 426": false}
	for deadline := time.Now().Add(wait); ; time.Sleep(10 * time.Millisecond) {
		for line := range strings.Lines(out.String()) {
			var r struct {
				Msg, Route, API string
				Status          int
			}
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				t.Fatalf("not a JSON line: %q", line)
			}
			if r.Route == "/echo" && r.API == "blocking" {
				want[fmt.Sprintf("%s %d", r.Msg, r.Status)] = true
			}
		}
		missing := 0
		for _, seen := range want {
			if !seen {
				missing++
			}
		}
		if missing == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("records seen %v; the log:\n%s", want, out)
		}
	}
}

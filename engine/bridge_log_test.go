package engine_test

import (
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/volley-ws/volley/engine"
	"github.com/volley-ws/volley/internal/wstest"
	"github.com/volley-ws/volley/upgrade"
)

// Routes of TestBridgeLogs' server besides lgStart's echoes, mounted at
// the root of the application's mux.
const (
	brDenyPath  = "/deny"  // a blocking handler that answers 401 without upgrading
	brPanicPath = "/panic" // a blocking handler that panics before upgrading
)

// TestBridgeLogs: a handshake that comes through ServeHTTP is logged as
// one on the server's own listener: an access record for every answer
// (101s of both APIs, the bridge's refusals, a handler's refusal, a path
// with no route), a Debug record for each refusal, counted in
// Stats.Refused; a handler's panic at Error with the same keys; and a
// bridged WebSocket's failure names its route and API.
func TestBridgeLogs(t *testing.T) {
	logger, lg := lgLogger(slog.LevelDebug)
	access, al := lgLogger(slog.LevelInfo)
	cfg := engine.Config{BridgeOnly: true, Logger: logger, AccessLog: access}
	srv := icStart(t, cfg, func(s *engine.Server) {
		s.HandleFunc(icEchoPath, cfEcho)
		s.HandleEvents(icEventsPath, cfEventEcho{})
		s.HandleFunc(brDenyPath, func(ctx *upgrade.Context) {
			ctx.SetStatusCode(http.StatusUnauthorized)
		})
		s.HandleFunc(brPanicPath, func(*upgrade.Context) { panic("boom before the upgrade") })
	})
	app := bridgeServe(t, srv.srv)
	before := srv.srv.Stats().Refused

	for _, tc := range []struct{ path, api string }{{icEchoPath, "blocking"}, {icEventsPath, "event"}} {
		t.Run("101 "+tc.api, func(t *testing.T) {
			c := wstest.Dial(t, app, tc.path)
			remote := c.NetConn().LocalAddr().String()
			r := lgAwait(t, al, "volley: handshake", "remote", remote)
			lgCheck(t, r, map[string]any{"level": "INFO", "route": tc.path, "api": tc.api, "status": 101, "subprotocol": "", "compression": false})
			if d, ok := r["duration"].(float64); !ok || d <= 0 {
				t.Errorf("duration %v, want > 0", r["duration"])
			}
			// A failure later names the route and the API, both APIs.
			c.WriteFrame(true, 0, 0x3, nil, true)
			cfExpectFail(t, c, 1002)
			lgCheck(t, lgAwait(t, lg, "volley: connection failed", "remote", remote),
				map[string]any{"level": "DEBUG", "route": tc.path, "api": tc.api, "code": 1002})
		})
	}

	for _, tc := range []struct {
		name, path, header string
		want               map[string]any
	}{
		{"bridge refuses, blocking", icEchoPath, lgUpgradeHeader("12"), map[string]any{"api": "blocking", "status": 426}},
		{"bridge refuses, event", icEventsPath, lgUpgradeHeader("12"), map[string]any{"api": "event", "status": 426}},
		{"event route, no upgrade", icEventsPath, "", map[string]any{"api": "event", "status": 426, "reason": "websocket endpoint"}},
		{"no route", "/nowhere", lgUpgradeHeader("13"), map[string]any{"status": 404, "reason": "not found"}},
		{"handler refuses", brDenyPath, lgUpgradeHeader("13"), map[string]any{"api": "blocking", "status": 401}},
		{"handler panics", brPanicPath, lgUpgradeHeader("13"), map[string]any{"api": "blocking", "status": 500, "reason": "internal server error"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, remote := lgRaw(t, app, tc.path, tc.header)
			if status != tc.want["status"] {
				t.Fatalf("answered %d, want %v", status, tc.want["status"])
			}
			tc.want["route"] = tc.path
			tc.want["level"] = "INFO"
			r := lgAwait(t, al, "volley: handshake", "remote", remote)
			lgCheck(t, r, tc.want)
			if _, ok := tc.want["api"]; !ok && r["api"] != nil {
				t.Errorf("api %v for a path with no route", r["api"])
			}
			tc.want["level"] = "DEBUG"
			lgCheck(t, lgAwait(t, lg, "volley: handshake refused", "remote", remote), tc.want)
		})
	}

	r := lgAwait(t, lg, "volley: handler panic recovered", "route", brPanicPath)
	lgCheck(t, r, map[string]any{"level": "ERROR", "api": "blocking", "panic": "boom before the upgrade"})
	if r.str("remote") == "" || r.str("stack") == "" || r["path"] != nil {
		t.Errorf("panic record %v: want remote and stack, and no key but the documented ones", r)
	}

	// Stats.Refused counts every refusal above, the handler's included.
	want := map[int]uint64{426: 3, 404: 1, 401: 1, 500: 1}
	for deadline := time.Now().Add(icTimeout); ; time.Sleep(10 * time.Millisecond) {
		got := srv.srv.Stats().Refused
		ok := true
		for status, n := range want {
			if got[status]-before[status] != n {
				ok = false
			}
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Stats.Refused %v (before %v), want the increments %v", got, before, want)
		}
	}
}

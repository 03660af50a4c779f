package engine_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/volley-ws/volley/conn"
	"github.com/volley-ws/volley/engine"
	"github.com/volley-ws/volley/internal/servertest"
	"github.com/volley-ws/volley/internal/wsclient"
	"github.com/volley-ws/volley/internal/wstest"
	"github.com/volley-ws/volley/upgrade"
)

// Tests of the server's log records (engine/logging.go, accesslog.go):
// each is read back from a JSON handler and checked for its level and
// attributes.

// lgRecord is one JSON log record.
type lgRecord map[string]any

// str returns the record's attribute key as a string ("" when absent).
func (r lgRecord) str(key string) string {
	s, _ := r[key].(string)
	return s
}

// num returns the record's attribute key as a number (-1 when absent).
func (r lgRecord) num(key string) float64 {
	if n, ok := r[key].(float64); ok {
		return n
	}
	return -1
}

// lgLogger returns a logger writing JSON records at level and up to the
// returned log.
func lgLogger(level slog.Level) (*slog.Logger, *servertest.Log) {
	lg := &servertest.Log{}
	return slog.New(slog.NewJSONHandler(lg, &slog.HandlerOptions{Level: level})), lg
}

// lgRecords parses what lg holds.
func lgRecords(t *testing.T, lg *servertest.Log) []lgRecord {
	t.Helper()
	var rs []lgRecord
	for line := range strings.Lines(lg.String()) {
		var r lgRecord
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("a log line is not JSON: %q: %v", line, err)
		}
		rs = append(rs, r)
	}
	return rs
}

// lgFind returns lg's records with message msg.
func lgFind(t *testing.T, lg *servertest.Log, msg string) []lgRecord {
	t.Helper()
	var found []lgRecord
	for _, r := range lgRecords(t, lg) {
		if r.str(slog.MessageKey) == msg {
			found = append(found, r)
		}
	}
	return found
}

// lgAwait waits up to icTimeout for a record in lg with message msg and
// the string attribute key equal to value, and returns the first.
func lgAwait(t *testing.T, lg *servertest.Log, msg, key, value string) lgRecord {
	t.Helper()
	for deadline := time.Now().Add(icTimeout); ; time.Sleep(5 * time.Millisecond) {
		for _, r := range lgFind(t, lg, msg) {
			if r.str(key) == value {
				return r
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q record with %s %q within %v; the log:\n%s", msg, key, value, icTimeout, lg)
		}
	}
}

// lgCheck fails the test when r's attributes differ from want (strings
// and numbers).
func lgCheck(t *testing.T, r lgRecord, want map[string]any) {
	t.Helper()
	for k, v := range want {
		var ok bool
		switch v := v.(type) {
		case string:
			ok = r.str(k) == v
		case int:
			ok = r.num(k) == float64(v)
		case bool:
			b, isBool := r[k].(bool)
			ok = isBool && b == v
		default:
			t.Fatalf("lgCheck: %s: unsupported %T", k, v)
		}
		if !ok {
			t.Errorf("record %q: %s = %v, want %v (record %v)", r.str(slog.MessageKey), k, r[k], v, r)
		}
	}
}

// lgRaw sends a raw HTTP request for path with the extra header lines to
// addr and returns the response status and the client's address.
func lgRaw(t *testing.T, addr, path, header string) (int, string) {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(icTimeout))
	fmt.Fprintf(nc, "GET %s HTTP/1.1\r\nHost: %s\r\n%s\r\n", path, addr, header)
	resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
	if err != nil {
		t.Fatalf("reading the response: %v", err)
	}
	resp.Body.Close()
	return resp.StatusCode, nc.LocalAddr().String()
}

// lgUpgradeHeader asks for a WebSocket with version v.
func lgUpgradeHeader(v string) string {
	return "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: " + v + "\r\n"
}

// lgStart starts the echo routes of both APIs (icEchoPath, icEventsPath)
// logging to logger, and to access when not nil.
func lgStart(t *testing.T, logger, access *slog.Logger, cfg engine.Config) *icServer {
	t.Helper()
	cfg.Logger, cfg.AccessLog = logger, access
	return icStart(t, cfg, func(s *engine.Server) {
		s.HandleFunc(icEchoPath, cfEcho)
		s.HandleEvents(icEventsPath, cfEventEcho{})
	})
}

// TestLogHandshakeRefused: a refused handshake is a Debug record naming
// the peer, the route, the API, the status and the reason, whichever API
// refused it, and whatever refused it (the engine's checks, the lack of
// a route).
func TestLogHandshakeRefused(t *testing.T) {
	logger, lg := lgLogger(slog.LevelDebug)
	srv := lgStart(t, logger, nil, engine.Config{})
	for _, tc := range []struct {
		name, path, header string
		want               map[string]any
	}{
		{"event API, no upgrade", icEventsPath, "", map[string]any{"api": "event", "status": 426, "reason": "websocket endpoint"}},
		{"event API, bad version", icEventsPath, lgUpgradeHeader("12"), map[string]any{"api": "event", "status": 426}},
		{"blocking API, bad version", icEchoPath, lgUpgradeHeader("12"), map[string]any{"api": "blocking", "status": 426}},
		{"no route", "/nowhere", lgUpgradeHeader("13"), map[string]any{"status": 404}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, remote := lgRaw(t, srv.addr, tc.path, tc.header)
			if status != tc.want["status"] {
				t.Fatalf("answered %d, want %v", status, tc.want["status"])
			}
			r := lgAwait(t, lg, "volley: handshake refused", "remote", remote)
			tc.want["level"], tc.want["route"] = "DEBUG", tc.path
			lgCheck(t, r, tc.want)
			if _, ok := tc.want["api"]; !ok && r["api"] != nil {
				t.Errorf("api %v for a path with no route", r["api"])
			}
		})
	}
	if rs := lgFind(t, lg, "volley: handshake"); len(rs) != 0 {
		t.Errorf("access records without Config.AccessLog: %v", rs)
	}
}

// lgPanicky panics in OnMessage.
type lgPanicky struct{ cfEventEcho }

func (lgPanicky) OnMessage(*engine.Conn, conn.MessageType, []byte) { panic("boom from OnMessage") }

// lgPanickyHook panics in OnHandshake.
type lgPanickyHook struct{ cfEventEcho }

func (lgPanickyHook) OnHandshake(*engine.Handshake) error { panic("boom from OnHandshake") }

// lgPanickyHandler upgrades and panics at the first message.
func lgPanickyHandler(ctx *upgrade.Context) {
	ws, err := ctx.Upgrader().Upgrade()
	if err != nil {
		return
	}
	if _, err := ws.Receive(); err == nil {
		panic("boom from the handler")
	}
}

// TestLogPanic: a panic recovered from a handler of either API is an
// Error record with the peer, the route, the API, the panic's value and
// the stack where it happened; the peer gets close 1011.
func TestLogPanic(t *testing.T) {
	logger, lg := lgLogger(slog.LevelInfo)
	srv := icStart(t, engine.Config{Logger: logger}, func(s *engine.Server) {
		s.HandleFunc("/panic", lgPanickyHandler)
		s.HandleEvents("/panic-events", lgPanicky{})
		s.HandleEvents("/panic-hook", lgPanickyHook{})
	})
	for _, tc := range []struct {
		path, api, panic, frame string
	}{
		{"/panic", "blocking", "boom from the handler", "lgPanickyHandler"},
		{"/panic-events", "event", "boom from OnMessage", "lgPanicky.OnMessage"},
	} {
		t.Run(tc.api, func(t *testing.T) {
			c := icDial(t, srv.url(tc.path))
			if err := c.Send(wsclient.Text, []byte("hi")); err != nil {
				t.Fatal(err)
			}
			if _, _, err := icReceive(t, c); !icIsClose(err, 1011) {
				t.Fatalf("after the panic: %v, want close 1011", err)
			}
			r := lgAwait(t, lg, "volley: handler panic recovered", "route", tc.path)
			lgCheck(t, r, map[string]any{"level": "ERROR", "api": tc.api, "panic": tc.panic, "remote": c.NetConn().LocalAddr().String()})
			if !strings.Contains(r.str("stack"), tc.frame) {
				t.Errorf("the stack does not show %s:\n%s", tc.frame, r.str("stack"))
			}
		})
	}
	t.Run("handshake hook", func(t *testing.T) {
		status, remote := lgRaw(t, srv.addr, "/panic-hook", lgUpgradeHeader("13"))
		if status != http.StatusInternalServerError {
			t.Fatalf("answered %d, want 500", status)
		}
		r := lgAwait(t, lg, "volley: handler panic recovered", "route", "/panic-hook")
		lgCheck(t, r, map[string]any{"level": "ERROR", "api": "event", "panic": "boom from OnHandshake", "remote": remote})
		if !strings.Contains(r.str("stack"), "lgPanickyHook.OnHandshake") {
			t.Errorf("the stack does not show the hook:\n%s", r.str("stack"))
		}
	})
}

// TestLogProtocolViolation: a connection failed for what its peer sent (a
// reserved opcode: 1002) is a Debug record with the peer, the code and
// the reason, the route and the API; at Info it is not
// logged.
func TestLogProtocolViolation(t *testing.T) {
	for _, tc := range []struct {
		path string
		want map[string]any
	}{
		{icEchoPath, map[string]any{"api": "blocking", "route": icEchoPath}},
		{icEventsPath, map[string]any{"api": "event", "route": icEventsPath}},
	} {
		t.Run(tc.want["api"].(string), func(t *testing.T) {
			debug, lgDebug := lgLogger(slog.LevelDebug)
			info, lgInfo := lgLogger(slog.LevelInfo)
			for i, s := range []*icServer{lgStart(t, debug, nil, engine.Config{}), lgStart(t, info, nil, engine.Config{})} {
				c := wstest.Dial(t, s.addr, tc.path)
				c.WriteFrame(true, 0, 0x3, nil, true)
				cfExpectFail(t, c, 1002)
				if i == 0 {
					tc.want["remote"] = c.NetConn().LocalAddr().String()
				}
			}
			r := lgAwait(t, lgDebug, "volley: connection failed", "remote", tc.want["remote"].(string))
			tc.want["level"], tc.want["code"] = "DEBUG", 1002
			lgCheck(t, r, tc.want)
			if r.str("reason") == "" {
				t.Errorf("no reason: %v", r)
			}
			if rs := lgFind(t, lgInfo, "volley: connection failed"); len(rs) != 0 {
				t.Errorf("logged at Info: %v", rs)
			}
		})
	}
}

// TestAccessLog: with Config.AccessLog, every handshake answered is an
// Info record there: a 101 with its subprotocol, compression and
// duration, whichever API; a refusal with its status and reason. Without
// it, there are none.
func TestAccessLog(t *testing.T) {
	logger, lg := lgLogger(slog.LevelDebug)
	access, al := lgLogger(slog.LevelInfo)
	cfg := engine.Config{}
	cfg.Upgrade.Subprotocols = []string{"chat"}
	cfg.Upgrade.Compression.Enabled = true
	srv := lgStart(t, logger, access, cfg)
	off := lgStart(t, logger, nil, cfg)

	for _, tc := range []struct{ path, api string }{{icEchoPath, "blocking"}, {icEventsPath, "event"}} {
		t.Run(tc.api, func(t *testing.T) {
			o := &wsclient.Options{Subprotocols: []string{"chat"}, Compression: true}
			c, _ := icDialWith(t, srv.url(tc.path), o)
			r := lgAwait(t, al, "volley: handshake", "route", tc.path)
			lgCheck(t, r, map[string]any{
				"level": "INFO", "api": tc.api, "status": 101, "subprotocol": "chat", "compression": true,
				"remote": c.NetConn().LocalAddr().String(),
			})
			if d, ok := r["duration"].(float64); !ok || d < 0 {
				t.Errorf("duration %v", r["duration"])
			}
			icDialWith(t, off.url(tc.path), o)
		})
	}
	t.Run("refused", func(t *testing.T) {
		status, remote := lgRaw(t, srv.addr, icEchoPath, lgUpgradeHeader("12"))
		r := lgAwait(t, al, "volley: handshake", "remote", remote)
		lgCheck(t, r, map[string]any{"level": "INFO", "api": "blocking", "route": icEchoPath, "status": status, "remote": remote})
		if r.str("reason") == "" || status != 426 {
			t.Errorf("status %d, reason %q", status, r.str("reason"))
		}
	})
	if rs := lgFind(t, lg, "volley: handshake"); len(rs) != 0 {
		t.Errorf("access records in Config.Logger: %v", rs)
	}
}

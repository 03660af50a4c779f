package interop

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/volley-ws/volley/conn"
)

// nodeResult is the JSON line testdata/node/client.mjs prints.
type nodeResult struct {
	Mode       string   `json:"mode"`
	OK         bool     `json:"ok"`
	Errors     []string `json:"errors"`
	Extensions *string  `json:"extensions"`
	Sent       int      `json:"sent"`
	// EchoedBytes adds up the echoed messages' sizes; WireRead is what the
	// client's TCP socket had read when it closed.
	EchoedBytes int64  `json:"echoedBytes"`
	WireRead    *int64 `json:"wireRead"`
	Pong        *int   `json:"pong"`
	Close       *struct {
		Code   int    `json:"code"`
		Reason string `json:"reason"`
	} `json:"close"`
	MS map[string]int `json:"ms"`
}

// TestNodeWS runs testdata/node/client.mjs, a client on Node's ws package,
// against the server (blocking and event APIs, with and without compression
// context takeover) in every mode the script has: plain and
// compressed messages of 0 B to 128 KiB one at a time and 200 in a row,
// fragmented messages with and without compression, ping/pong with a
// payload, a close with 4001 and a reason that the server must see and
// answer, and a close frame with a forbidden code that the server must
// answer with 1002.
func TestNodeWS(t *testing.T) {
	node := requireNode(t)
	dir, err := filepath.Abs(filepath.Join("testdata", "node"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "ws", "package.json")); err != nil {
		msg := "the ws package is not installed in engine/interop/testdata/node/node_modules: run `make deps` (npm ci there)"
		if testing.Short() {
			t.Skip(msg)
		}
		t.Fatal(msg)
	}
	modes := []string{"plain", "deflate", "deflate-small", "fragments", "fragments-deflate", "bad-close"}
	for _, so := range []serverOptions{
		{api: "blocking", compression: true},
		{api: "event", compression: true},
		{api: "blocking", compression: true, contextTakeover: true},
		{api: "event", compression: true, contextTakeover: true},
	} {
		t.Run(so.String(), func(t *testing.T) {
			srv := startEchoServer(t, so)
			for _, mode := range modes {
				if so.contextTakeover && !strings.Contains(mode, "deflate") {
					continue // the same as without takeover
				}
				t.Run(mode, func(t *testing.T) {
					query := "client=node&mode=" + mode
					res := runNodeClient(t, node, dir, "ws://"+srv.addr()+"/echo?"+query, mode)
					rec := srv.nextRecord(t, query, 10*time.Second)
					checkNodeResult(t, srv, mode, res, rec)
				})
			}
		})
	}
}

// requireNode returns the path of node, or fails (skips with -short).
func requireNode(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("node")
	if err != nil {
		path = "/usr/bin/node" // for requireProgram's message
	}
	return requireProgram(t, path, "node (Node.js)", "nodejs npm")
}

// runNodeClient runs the client script in mode against url and returns its
// result line.
func runNodeClient(t *testing.T, node, dir, url, mode string) nodeResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "client.mjs", url, mode)
	cmd.Dir = dir
	cmd.WaitDelay = 2 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	elapsed := time.Since(start).Round(time.Millisecond)
	if err != nil {
		t.Fatalf("node client.mjs %s %s: %v\nstdout: %s\nstderr: %s", url, mode, err, stdout.Bytes(), stderr.Bytes())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	var res nodeResult
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &res); err != nil {
		t.Fatalf("node client.mjs %s: no result line (%v)\nstdout: %s\nstderr: %s", mode, err, stdout.Bytes(), stderr.Bytes())
	}
	t.Logf("node client.mjs %s: %v (phases ended at, in ms: %v)", mode, elapsed, res.MS)
	return res
}

// checkNodeResult checks the script's result and the server's record of the
// same connection.
func checkNodeResult(t *testing.T, srv *echoServer, mode string, res nodeResult, rec connRecord) {
	t.Helper()
	if !res.OK {
		t.Errorf("node client (%s) reported:\n  %s", mode, strings.Join(res.Errors, "\n  "))
	}
	if res.Extensions == nil {
		t.Fatalf("node client (%s) did not connect; server record %v", mode, rec)
	}
	offered := strings.Contains(mode, "deflate")
	if offered != hasDeflate(rec.Offer) {
		t.Errorf("the server saw Sec-WebSocket-Extensions %q; ws should offer permessage-deflate: %v", rec.Offer, offered)
	}
	if offered && !hasDeflate(*res.Extensions) {
		t.Errorf("ws negotiated extensions %q, want permessage-deflate%s", *res.Extensions, noCompressionYet)
	}
	if !offered && *res.Extensions != "" {
		t.Errorf("ws negotiated extensions %q without offering any", *res.Extensions)
	}
	// Most of what is echoed compresses well (JSON-like text, repetitive
	// binary; the random binary does not): with permessage-deflate the
	// server's echoes must take much less room on the wire than their
	// payload, without it a little more.
	if res.WireRead != nil && res.EchoedBytes > 0 {
		ratio := float64(*res.WireRead) / float64(res.EchoedBytes)
		t.Logf("node read %d bytes from the socket for %d bytes of echoed messages (%.2f)", *res.WireRead, res.EchoedBytes, ratio)
		if offered && ratio > 0.75 {
			t.Errorf("the server's echoes are not compressed: %d bytes on the wire for %d bytes of messages%s",
				*res.WireRead, res.EchoedBytes, noCompressionYet)
		}
		if !offered && ratio < 1 {
			t.Errorf("%d bytes on the wire for %d bytes of messages, without compression", *res.WireRead, res.EchoedBytes)
		}
	}
	if got := rec.Text + rec.Binary; got != res.Sent {
		t.Errorf("the server received %d messages, node sent %d; record %v", got, res.Sent, rec)
	}
	if mode == "bad-close" {
		// The server fails the connection: it sends close 1002 and sees no
		// valid close from the peer.
		if res.Close == nil || res.Close.Code != int(conn.StatusProtocolError) {
			t.Errorf("after a close frame with code 1005, node got close %+v, want 1002", res.Close)
		}
		if rec.Code != conn.StatusProtocolError || rec.PeerClose {
			t.Errorf("after a close frame with code 1005, the server's record is %v, want the connection failed with 1002", rec)
		}
		return
	}
	if res.Pong == nil {
		t.Errorf("node got no pong")
	}
	reason := "bye from node (" + mode + ")"
	srv.checkClose(t, rec, 4001, reason)
	if res.Close == nil || res.Close.Code != 4001 || res.Close.Reason != srv.echoReason(reason) {
		t.Errorf("node's close event: %+v, want code 4001 reason %q", res.Close, srv.echoReason(reason))
	}
}

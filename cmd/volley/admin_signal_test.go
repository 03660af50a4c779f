package main

import (
	"context"
	"encoding/binary"
	"io"
	"net/http"
	"regexp"
	"syscall"
	"testing"
	"time"

	"github.com/volley-ws/volley/internal/wsclient"
)

// TestAdminShutdown runs the binary with -admin and sends it SIGTERM while
// a client holds a WebSocket and does not answer the close: by the time
// the client reads the 1001, /readyz answers 503, and /healthz still
// answers 200 while the WebSocket server waits for the client's answer;
// the admin server goes only after the WebSocket server, when the process
// exits.
func TestAdminShutdown(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	first, lines, exited, cmd := startBinary(t, "-addr", "127.0.0.1:0", "-admin", "127.0.0.1:0",
		"-shutdown-grace", "10s", "-close-timeout", "5s")
	m := regexp.MustCompile(`listening on http://([0-9.:]+)/`).FindStringSubmatch(first)
	if m == nil {
		t.Fatalf("unexpected first line %q", first)
	}
	if !lines.Scan() {
		t.Fatal("no second line")
	}
	am := regexp.MustCompile(`admin on http://([0-9.:]+)/`).FindStringSubmatch(lines.Text())
	if am == nil {
		t.Fatalf("unexpected second line %q, want the admin's address", lines.Text())
	}
	go func() {
		for lines.Scan() {
		}
		exited <- cmd.Wait()
	}()
	admin := "http://" + am[1]
	status := func(path string) int {
		t.Helper()
		resp, err := http.Get(admin + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	if h, r := status("/healthz"), status("/readyz"); h != 200 || r != 200 {
		t.Fatalf("running: /healthz %d /readyz %d, want 200 200", h, r)
	}

	ctx, cancel := context.WithTimeout(t.Context(), wait)
	defer cancel()
	c, _, err := wsclient.Dial(ctx, "ws://"+m[1]+"/echo", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if err := c.Send(wsclient.Text, []byte("hi")); err != nil {
		t.Fatal(err)
	}
	if _, p, err := c.Receive(ctx); err != nil || string(p) != "hi" {
		t.Fatalf("echo: %q %v", p, err)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// The server's close frame, read from the socket so that the client
	// does not answer it: the server waits for the answer.
	nc := c.NetConn()
	nc.SetReadDeadline(time.Now().Add(wait))
	var frame [4]byte
	if _, err := io.ReadFull(nc, frame[:]); err != nil {
		t.Fatalf("reading the close frame: %v", err)
	}
	if frame[0] != 0x88 || binary.BigEndian.Uint16(frame[2:]) != 1001 {
		t.Fatalf("after SIGTERM: frame % x, want a close with 1001", frame)
	}
	if r := status("/readyz"); r != 503 {
		t.Errorf("/readyz once the 1001 is out: %d, want 503", r)
	}
	if h := status("/healthz"); h != 200 {
		t.Errorf("/healthz while shutting down: %d, want 200", h)
	}
	select {
	case err := <-exited:
		t.Fatalf("the process exited (%v) before the client answered the close", err)
	default:
	}
	c.SendClose(1001, "")
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("exit: %v", err)
		}
	case <-time.After(wait):
		t.Fatal("server did not exit after SIGTERM")
	}
	if _, err := http.Get(admin + "/healthz"); err == nil {
		t.Error("/healthz answers after the process exited")
	}
}

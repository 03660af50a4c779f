package main

import (
	"context"
	"errors"
	"regexp"
	"syscall"
	"testing"
	"time"

	"github.com/volley-ws/volley/internal/wsclient"
)

// TestSignalShutdown builds the binary, connects a client, sends SIGTERM,
// and checks the client is sent close 1001 and the process exits cleanly.
func TestSignalShutdown(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	first, lines, exited, cmd := startBinary(t, "-addr", "127.0.0.1:0", "-shutdown-grace", "5s")
	m := regexp.MustCompile(`listening on http://([0-9.:]+)/`).FindStringSubmatch(first)
	if m == nil {
		t.Fatalf("unexpected first line %q", first)
	}
	go func() {
		for lines.Scan() {
		}
		exited <- cmd.Wait()
	}()

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
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
	_, _, err = c.Receive(ctx) // the client answers the close frame itself
	var ce *wsclient.CloseError
	if !errors.As(err, &ce) || ce.Code != 1001 {
		t.Fatalf("after SIGTERM: %v, want close 1001", err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("exit: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("server did not exit after SIGTERM")
	}
}

package main

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
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
	bin := filepath.Join(t.TempDir(), "volley")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		t.Fatalf("build: %v", err)
	}
	cmd := exec.Command(bin, "-addr", "127.0.0.1:0", "-shutdown-grace", "5s")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	t.Cleanup(func() {
		cmd.Process.Kill()
	})
	lines := bufio.NewScanner(out)
	if !lines.Scan() {
		t.Fatal("no output from the server")
	}
	m := regexp.MustCompile(`listening on http://([0-9.:]+)/`).FindStringSubmatch(lines.Text())
	if m == nil {
		t.Fatalf("unexpected first line %q", lines.Text())
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

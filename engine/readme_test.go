package engine_test

import (
	"bytes"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/volley-ws/volley/internal/wstest"
)

// TestREADMECompiles builds the complete program of the README's "Use it"
// section against this checkout, so that the README cannot drift from the
// API, then runs it (on a free port instead of 8080) and checks its answers
// byte for byte: the echo of a text message, the close reply, the end of
// the TCP connection. It needs the go command and the module cache that
// building the tests filled (no network: GOPROXY=off).
func TestREADMECompiles(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program")
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	start := bytes.Index(readme, []byte("```go\npackage main\n"))
	if start < 0 {
		t.Fatal("README.md has no complete program (a ```go block starting with package main)")
	}
	src := readme[start+len("```go\n"):]
	src = src[:bytes.Index(src, []byte("```"))]
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	if !bytes.Contains(src, []byte(`"127.0.0.1:8080"`)) {
		t.Fatal("the README's program no longer listens on 127.0.0.1:8080")
	}
	src = bytes.Replace(src, []byte(`"127.0.0.1:8080"`), []byte(strconv.Quote(addr)), 1)
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	gomod := "module readme\n\ngo 1.26\n\nrequire github.com/volley-ws/volley v0.0.0\n\nreplace github.com/volley-ws/volley => " + root + "\n"
	for name, data := range map[string][]byte{"main.go": src, "go.mod": []byte(gomod)} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	bin := filepath.Join(dir, "readme")
	for _, args := range [][]string{{"mod", "tidy"}, {"build", "-o", bin, "."}} {
		cmd := exec.Command(gobin, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOPROXY=off", "GOFLAGS=-mod=mod")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %v: %v\n%s", args, err, out)
		}
	}

	srv := exec.Command(bin)
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = srv.Process.Kill()
		_ = srv.Wait()
	})
	for deadline := time.Now().Add(10 * time.Second); ; {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the README's program does not listen on %s: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	c := wstest.Dial(t, addr, "/echo")
	defer c.Close()
	c.WriteFrame(true, 0, wstest.OpText, []byte("hello"), true)
	want := []byte("\x81\x0bEcho: hello")
	got := make([]byte, len(want))
	_ = c.NetConn().SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(c.Reader(), got); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("echo: %q (%v), want %q", got, err, want)
	}
	c.WriteClose(1000, "")
	want = []byte("\x88\x02\x03\xe8")
	got = make([]byte, len(want))
	if _, err := io.ReadFull(c.Reader(), got); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("close reply: %q (%v), want %q", got, err, want)
	}
	c.ExpectTCPClosed(5 * time.Second)
}

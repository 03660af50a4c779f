package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/volley-ws/volley/engine"
	"github.com/volley-ws/volley/internal/wsclient"
)

// promtoolPath is where Debian's prometheus package installs promtool.
const promtoolPath = "/usr/bin/promtool"

// startAdminServer starts the binary's server with args (see startServer)
// and its admin server on a free port of 127.0.0.1, ready; both stop when
// the test ends. It returns the server and the admin's base URL.
func startAdminServer(t *testing.T, args ...string) (*engine.Server, string) {
	t.Helper()
	srv := startServer(t, args...)
	adm, err := startAdmin("127.0.0.1:0", srv)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := adm.stop(); err != nil {
			t.Errorf("admin stop: %v", err)
		}
	})
	adm.setReady(true)
	return srv, "http://" + adm.Addr().String()
}

// get fetches url and returns its status and body.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp.StatusCode, string(body)
}

// series returns the value of the series key (a name, with its labels as
// the exposition writes them: sorted, quoted) in a text scrape.
func series(scrape, key string) (float64, bool) {
	for line := range strings.Lines(scrape) {
		if v, ok := strings.CutPrefix(line, key+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return f, err == nil
		}
	}
	return 0, false
}

// expectMetrics scrapes base/metrics until every series in want has its
// value (the engine counts some events a moment after the client saw them)
// and returns the scrape; it fails the test with what differs after wait.
func expectMetrics(t *testing.T, base string, want map[string]float64) string {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		code, body := get(t, base+"/metrics")
		if code != 200 {
			t.Fatalf("/metrics: %d %s", code, body)
		}
		var bad []string
		for k, v := range want {
			if got, ok := series(body, k); !ok || got != v {
				bad = append(bad, k+" is "+strconv.FormatFloat(got, 'g', -1, 64)+" (found "+strconv.FormatBool(ok)+"), want "+strconv.FormatFloat(v, 'g', -1, 64))
			}
		}
		if len(bad) == 0 {
			return body
		}
		slices.Sort(bad)
		if time.Now().After(deadline) {
			t.Fatalf("after %v:\n  %s", wait, strings.Join(bad, "\n  "))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// promtool returns promtool's path, and fails the test when it is missing
// (skips it with -short): the scrape is checked by the tool operators use.
func promtool(t *testing.T) string {
	t.Helper()
	if fi, err := os.Stat(promtoolPath); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
		return promtoolPath
	}
	msg := "promtool not found at " + promtoolPath + ": apt-get install prometheus (Debian's package ships it), or make deps"
	if testing.Short() {
		t.Skip(msg)
	}
	t.Fatal(msg)
	return ""
}

// checkMetrics runs promtool check metrics on a scrape.
func checkMetrics(t *testing.T, scrape string) {
	t.Helper()
	cmd := exec.Command(promtool(t), "check", "metrics")
	cmd.Stdin = strings.NewReader(scrape)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}

// dialWS opens a WebSocket to path on srv; it is closed when the test ends.
func dialWS(t *testing.T, srv *engine.Server, path string) *wsclient.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), wait)
	defer cancel()
	c, _, err := wsclient.Dial(ctx, "ws://"+srv.Addr().String()+path, nil)
	if err != nil {
		t.Fatalf("dialing %s: %v", path, err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return c
}

// roundTrip sends a message on c and waits for the one that comes back.
func roundTrip(t *testing.T, c *wsclient.Conn, typ wsclient.MessageType, p string) {
	t.Helper()
	if err := c.Send(typ, []byte(p)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), wait)
	defer cancel()
	if gt, got, err := c.Receive(ctx); err != nil || gt != typ || string(got) != p {
		t.Fatalf("sent %v %q, got %v %q %v", typ, p, gt, got, err)
	}
}

// closeConn closes c with 1000 and waits for the server's answer.
func closeConn(t *testing.T, c *wsclient.Conn) {
	t.Helper()
	c.SendClose(1000, "")
	ctx, cancel := context.WithTimeout(t.Context(), wait)
	defer cancel()
	for {
		if _, _, err := c.Receive(ctx); err != nil {
			break
		}
	}
	c.CloseNow()
}

// waitJoined waits until members a and b of a room both receive what b
// says, which proves both subscribed, and drains it.
func waitJoined(t *testing.T, a, b *wsclient.Conn) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), wait)
	defer cancel()
	if err := b.Send(wsclient.Text, []byte("joined")); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*wsclient.Conn{b, a} {
		if _, p, err := c.Receive(ctx); err != nil || string(p) != "joined" {
			t.Fatalf("join: %q %v", p, err)
		}
	}
}

// startBinary builds cmd/volley and runs it with args; it returns the
// lines it prints (the first already read and returned) and a channel that
// gets its exit. It is killed, by its PID, when the test ends.
func startBinary(t *testing.T, args ...string) (first string, lines *bufio.Scanner, exited chan error, cmd *exec.Cmd) {
	t.Helper()
	bin := t.TempDir() + "/volley"
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		t.Fatalf("build: %v", err)
	}
	cmd = exec.Command(bin, args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	lines = bufio.NewScanner(out)
	if !lines.Scan() {
		t.Fatal("no output from the server")
	}
	return lines.Text(), lines, make(chan error, 1), cmd
}

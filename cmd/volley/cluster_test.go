package main

import (
	"bytes"
	"os"
	"os/exec"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/volley-ws/volley/internal/wsclient"
)

// natsServerPath is where Debian's nats-server package installs the server.
const natsServerPath = "/usr/sbin/nats-server"

// startNATS runs Debian's nats-server on a free port of 127.0.0.1 and
// returns its URL; it is killed (by its PID) when the test ends. Without
// the binary the test is skipped, except in CI (CI set), where
// .ci/deps.sh installs it and its absence is a failure.
func startNATS(t *testing.T) string {
	t.Helper()
	exe, err := exec.LookPath("nats-server")
	if err != nil {
		exe = natsServerPath
	}
	if fi, err := os.Stat(exe); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
		msg := "nats-server not found (in PATH or at " + natsServerPath + "): apt-get install nats-server, or make deps"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	// -p -1: a port the system picks, which the server logs.
	cmd := exec.Command(exe, "-a", "127.0.0.1", "-p", "-1")
	listening := make(chan string, 1)
	log := &natsLog{listening: listening}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", exe, err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("nats-server's log:\n%s", log.String())
		}
	})
	select {
	case addr := <-listening:
		return "nats://" + addr
	case <-time.After(wait):
		t.Fatalf("nats-server did not say where it listens within %v; its log:\n%s", wait, log.String())
		return ""
	}
}

// natsLog keeps nats-server's output, and sends the address it listens on
// for clients to listening once it says so (then sets listening to nil).
type natsLog struct {
	mu        sync.Mutex
	buf       bytes.Buffer
	listening chan string
}

var natsListening = regexp.MustCompile(`Listening for client connections on (127\.0\.0\.1:[0-9]+)`)

func (l *natsLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	if m := natsListening.FindSubmatch(l.buf.Bytes()); m != nil && l.listening != nil {
		l.listening <- string(m[1])
		l.listening = nil
	}
	return len(p), nil
}

func (l *natsLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// TestChatCluster runs two nodes joined by a nats-server, as two volley
// processes with -nats would be: node A with the blocking API, node B with
// the event API. A binary message said on A reaches the member on B once,
// unchanged and with its type (and its sender once); a text message said
// on B reaches A's member once.
func TestChatCluster(t *testing.T) {
	url := startNATS(t)
	nodeA := startServer(t, "-api", "blocking", "-nats", url)
	nodeB := startServer(t, "-api", "event", "-nats", url)
	a := join(t, nodeA.Addr().String(), "cluster")
	b := join(t, nodeB.Addr().String(), "cluster")
	awaitSubscribers(t, nodeA, "chat.cluster", 1)
	awaitSubscribers(t, nodeB, "chat.cluster", 1)

	// The nodes subscribe to the room on the NATS server in the
	// background: A says "probe" until B's member hears one.
	probe := []byte("probe")
	heard := false
	for deadline := time.Now().Add(wait); !heard; {
		if time.Now().After(deadline) {
			t.Fatalf("B's member heard none of A's probes within %v", wait)
		}
		if err := a.Send(wsclient.Text, probe); err != nil {
			t.Fatal(err)
		}
		select {
		case msg := <-b.in:
			if msg.err != nil || msg.typ != wsclient.Text || !bytes.Equal(msg.data, probe) {
				t.Fatalf("B's member got %v, want a probe", msg)
			}
			heard = true
		case <-time.After(50 * time.Millisecond):
		}
	}

	said := []byte{0, 1, 2, 0xfe, 0xff, 'A'}
	if err := a.Send(wsclient.Binary, said); err != nil {
		t.Fatal(err)
	}
	if err := a.Send(wsclient.Text, []byte("end of A")); err != nil {
		t.Fatal(err)
	}
	hearsOnce(t, "B's member", b, wsclient.Binary, said, probe, "end of A")
	hearsOnce(t, "A's member", a, wsclient.Binary, said, probe, "end of A")

	reply := []byte("héllo from B")
	if err := b.Send(wsclient.Text, reply); err != nil {
		t.Fatal(err)
	}
	if err := b.Send(wsclient.Text, []byte("end of B")); err != nil {
		t.Fatal(err)
	}
	hearsOnce(t, "A's member", a, wsclient.Text, reply, nil, "end of B")
	hearsOnce(t, "B's member", b, wsclient.Text, reply, nil, "end of B")
}

// hearsOnce reads m's messages up to the text end and checks that want
// (of type typ) was among them exactly once; the only other messages
// allowed are text probes before it.
func hearsOnce(t *testing.T, who string, m *member, typ wsclient.MessageType, want, probe []byte, end string) {
	t.Helper()
	n := 0
	for {
		msg := m.next(t)
		switch {
		case msg.err != nil:
			t.Fatalf("%s: %v before %q", who, msg.err, end)
		case msg.typ == typ && bytes.Equal(msg.data, want):
			n++
		case msg.typ == wsclient.Text && string(msg.data) == end:
			if n != 1 {
				t.Fatalf("%s heard %x %d times, want once", who, want, n)
			}
			return
		case n == 0 && probe != nil && msg.typ == wsclient.Text && bytes.Equal(msg.data, probe):
		default:
			t.Fatalf("%s got %v, want %v %x once, then %q", who, msg, typ, want, end)
		}
	}
}

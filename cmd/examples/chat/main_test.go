package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/volley-ws/volley/cmd/examples/internal/examplerun"
	"github.com/volley-ws/volley/internal/leakcheck"
	"github.com/volley-ws/volley/internal/wsclient"
)

// TestMain fails the run when a test leaves goroutines behind: a server
// run did not shut down, or a client nobody closed.
func TestMain(m *testing.M) { leakcheck.Main(m) }

// start runs the example on an ephemeral loopback port until the test
// ends, and returns its address.
func start(t *testing.T) string {
	t.Helper()
	return examplerun.Start(t, run)
}

// join connects to room and reads the greeting, after which the member is
// subscribed.
func join(t *testing.T, ctx context.Context, addr, room string) *wsclient.Conn {
	t.Helper()
	c, _, err := wsclient.Dial(ctx, "ws://"+addr+"/chat?room="+room, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseNow() })
	expect(t, ctx, c, "joined "+room)
	return c
}

// expect reads c's next message and checks it is the text want.
func expect(t *testing.T, ctx context.Context, c *wsclient.Conn, want string) {
	t.Helper()
	typ, got, err := c.Receive(ctx)
	if err != nil || typ != wsclient.Text || string(got) != want {
		t.Fatalf("received %v %q (%v), want text %q", typ, got, err, want)
	}
}

// TestRooms: a message reaches every member of its room, the sender
// included, and no one in another room.
func TestRooms(t *testing.T) {
	addr := start(t)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	alice := join(t, ctx, addr, "a")
	bob := join(t, ctx, addr, "a")
	carol := join(t, ctx, addr, "b")

	if err := alice.Send(wsclient.Text, []byte("hi, room a")); err != nil {
		t.Fatal(err)
	}
	expect(t, ctx, bob, "hi, room a")
	expect(t, ctx, alice, "hi, room a")
	// Carol's next message is her own: "hi, room a", published before,
	// would have come first had it been sent to her.
	if err := carol.Send(wsclient.Text, []byte("hi, room b")); err != nil {
		t.Fatal(err)
	}
	expect(t, ctx, carol, "hi, room b")
	for _, c := range []*wsclient.Conn{alice, bob, carol} {
		if err := c.Close(1000, ""); err != nil {
			t.Error(err)
		}
	}
}

// TestPageAndBadRoom: the page is served on /, and a request without a
// valid room is refused before the upgrade.
func TestPageAndBadRoom(t *testing.T) {
	addr := start(t)
	resp, err := http.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "new WebSocket(") {
		t.Fatalf("page: %d %.60q", resp.StatusCode, body)
	}
	_, r, err := wsclient.Dial(t.Context(), "ws://"+addr+"/chat?room=no+spaces", nil)
	if err == nil || r == nil || r.StatusCode != http.StatusBadRequest {
		t.Fatalf("bad room: %+v %v, want 400", r, err)
	}
}

package main

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/volley-ws/volley/cmd/examples/internal/examplerun"
	"github.com/volley-ws/volley/internal/leakcheck"
	"github.com/volley-ws/volley/internal/wsclient"
)

// TestMain fails the run when a test leaves goroutines behind: a server
// run did not shut down, or a client nobody closed.
func TestMain(m *testing.M) { leakcheck.Main(m) }

// start runs the example on an ephemeral loopback port, with one user,
// alice, whose token is "s3cret", until the test ends, and returns the
// echo's URL.
func start(t *testing.T) string {
	t.Helper()
	tokens := map[string]string{"s3cret": "alice"}
	return "ws://" + examplerun.Start(t, func(ctx context.Context, addr string, ready func(net.Addr)) error {
		return run(ctx, addr, tokens, ready)
	}) + "/echo"
}

// TestRefused: without a token the handshake gets 401 with
// WWW-Authenticate, with an unknown one 403.
func TestRefused(t *testing.T) {
	url := start(t)
	for _, tc := range []struct {
		name   string
		url    string
		header http.Header
		status int
	}{
		{"no token", url, nil, http.StatusUnauthorized},
		{"empty query token", url + "?token=", nil, http.StatusUnauthorized},
		{"unknown header token", url, http.Header{"Authorization": {"Bearer guess"}}, http.StatusForbidden},
		{"unknown query token", url + "?token=guess", nil, http.StatusForbidden},
	} {
		c, resp, err := wsclient.Dial(t.Context(), tc.url, &wsclient.Options{Header: tc.header})
		if err == nil {
			c.CloseNow()
			t.Fatalf("%s: the handshake was accepted", tc.name)
		}
		if resp == nil || resp.StatusCode != tc.status {
			t.Fatalf("%s: answer %+v (%v), want %d", tc.name, resp, err, tc.status)
		}
		if tc.status == http.StatusUnauthorized && resp.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: no WWW-Authenticate", tc.name)
		}
	}
}

// TestEcho: with a token in the header or the query, the client is greeted
// by its name and its messages are echoed with their types.
func TestEcho(t *testing.T) {
	url := start(t)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	for _, o := range []struct {
		url    string
		header http.Header
	}{
		{url, http.Header{"Authorization": {"Bearer s3cret"}}},
		{url + "?token=s3cret", nil},
	} {
		c, _, err := wsclient.Dial(ctx, o.url, &wsclient.Options{Header: o.header})
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
		want := []struct {
			typ  wsclient.MessageType
			data string
		}{{wsclient.Text, "hello, alice"}, {wsclient.Text, "ping"}, {wsclient.Binary, "\x00\x01"}}
		for i, w := range want {
			if i > 0 {
				if err := c.Send(w.typ, []byte(w.data)); err != nil {
					t.Fatal(err)
				}
			}
			typ, got, err := c.Receive(ctx)
			if err != nil || typ != w.typ || string(got) != w.data {
				t.Fatalf("%s: received %v %q (%v), want %v %q", o.url, typ, got, err, w.typ, w.data)
			}
		}
		if err := c.Close(1000, ""); err != nil {
			t.Error(err)
		}
	}
}

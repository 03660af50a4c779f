package main

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/volley-ws/volley/internal/wsclient"
)

// TestChat: three members of the room each see every member's messages,
// in the order the room relayed them, and a member that leaves stops
// getting them; a binary message ends its sender's membership with 1003.
func TestChat(t *testing.T) {
	o, err := parseFlags([]string{"-addr", "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	srv := newServer(o)
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown(context.Background())
	url := "ws://" + srv.Addr().String() + "/chat"
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var members []*wsclient.Conn
	for range 3 {
		c, _, err := wsclient.Dial(ctx, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
		members = append(members, c)
	}
	// Each member speaks once, after hearing the previous one: every
	// member has joined the room by then.
	for i, c := range members {
		if err := c.Send(wsclient.Text, []byte(fmt.Sprint("hello from ", i))); err != nil {
			t.Fatal(err)
		}
		for j, r := range members {
			_, msg, err := r.Receive(ctx)
			if err != nil || string(msg) != fmt.Sprint("hello from ", i) {
				t.Fatalf("member %d heard %q %v, want member %d's hello", j, msg, err, i)
			}
		}
	}
	if err := members[2].Close(1000, ""); err != nil {
		t.Fatalf("leaving: %v", err)
	}
	if err := members[0].Send(wsclient.Binary, []byte{1}); err != nil {
		t.Fatal(err)
	}
	var ce *wsclient.CloseError
	if _, _, err := members[0].Receive(ctx); !errors.As(err, &ce) || ce.Code != 1003 {
		t.Fatalf("after a binary message: %v, want close 1003", err)
	}
	if err := members[1].Send(wsclient.Text, []byte("still here")); err != nil {
		t.Fatal(err)
	}
	if _, msg, err := members[1].Receive(ctx); err != nil || string(msg) != "still here" {
		t.Fatalf("the last member heard %q %v", msg, err)
	}
}

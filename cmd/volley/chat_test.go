package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/volley-ws/volley/engine"
	"github.com/volley-ws/volley/internal/wsclient"
)

// wait bounds every step of the chat tests.
const wait = 10 * time.Second

// startServer starts the binary's server with the flags args (and -addr
// 127.0.0.1:0); it is shut down when the test ends.
func startServer(t *testing.T, args ...string) *engine.Server {
	t.Helper()
	o, err := parseFlags(append([]string{"-addr", "127.0.0.1:0"}, args...))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := newServer(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return srv
}

// message is what a member received: a message, or the error that ended
// its connection (the last one).
type message struct {
	typ  wsclient.MessageType
	data []byte
	err  error
}

func (m message) String() string {
	if m.err != nil {
		return m.err.Error()
	}
	if m.typ == wsclient.Text {
		return fmt.Sprintf("text %q", m.data)
	}
	return fmt.Sprintf("%v %x", m.typ, m.data)
}

// member is a client in a chat room; a goroutine receives its messages
// into in until the connection ends (the test's end closes it).
type member struct {
	*wsclient.Conn
	in chan message
}

// join connects a member to room on the server at addr.
func join(t *testing.T, addr, room string) *member {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), wait)
	defer cancel()
	c, _, err := wsclient.Dial(ctx, "ws://"+addr+"/chat?room="+room, nil)
	if err != nil {
		t.Fatalf("joining %s: %v", room, err)
	}
	m := &member{Conn: c, in: make(chan message, 256)}
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			typ, data, err := c.Receive(context.Background())
			select {
			case m.in <- message{typ, data, err}:
			case <-stop:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		close(stop)
		c.CloseNow()
		<-done
	})
	return m
}

// next returns the member's next message, failing the test when none
// comes within wait.
func (m *member) next(t *testing.T) message {
	t.Helper()
	select {
	case msg := <-m.in:
		return msg
	case <-time.After(wait):
		t.Fatalf("no message within %v", wait)
		return message{}
	}
}

// awaitSubscribers waits until topic has n subscribers on srv.
func awaitSubscribers(t *testing.T, srv *engine.Server, topic string, n int) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for srv.Subscribers(topic) != n {
		if time.Now().After(deadline) {
			t.Fatalf("%s has %d subscribers, want %d", topic, srv.Subscribers(topic), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// said is the k-th message member i says in TestChatRooms: text and binary
// in turn.
func said(i, k int) (wsclient.MessageType, []byte) {
	if k%2 == 0 {
		return wsclient.Text, fmt.Appendf(nil, "member %d says %d", i, k)
	}
	return wsclient.Binary, []byte{byte(i), byte(k), 0, 255}
}

// TestChatRooms, for both APIs: three members of a room speak at once;
// each member gets every message of the room, its own included, once, with
// its type, each speaker's in the order spoken; a member of another room
// gets none of them.
func TestChatRooms(t *testing.T) {
	const speakers, says = 3, 40
	for _, api := range []string{"blocking", "event"} {
		t.Run(api, func(t *testing.T) {
			srv := startServer(t, "-api", api)
			addr := srv.Addr().String()
			var room []*member
			for range speakers {
				room = append(room, join(t, addr, "a"))
			}
			other := join(t, addr, "b")
			awaitSubscribers(t, srv, "chat.a", speakers)
			awaitSubscribers(t, srv, "chat.b", 1)

			var wg sync.WaitGroup
			for i, m := range room {
				wg.Go(func() {
					for k := range says {
						if err := m.Send(said(i, k)); err != nil {
							t.Errorf("member %d: %v", i, err)
							return
						}
					}
				})
			}
			wg.Wait()
			for j, m := range room {
				next := make([]int, speakers) // the next k expected of each speaker
				for range speakers * says {
					msg := m.next(t)
					i, k, ok := whoSaid(msg)
					if !ok || k != next[i] {
						t.Fatalf("member %d got %v; next expected of each speaker: %v", j, msg, next)
					}
					next[i]++
				}
			}
			// Nothing more: the next message each member gets is the end
			// marker, said after everything else.
			if err := room[0].Send(wsclient.Text, []byte("end")); err != nil {
				t.Fatal(err)
			}
			for j, m := range room {
				if msg := m.next(t); msg.err != nil || string(msg.data) != "end" {
					t.Fatalf("member %d got %v after every message, want the end marker", j, msg)
				}
			}
			// The other room heard nothing of it: its member's first
			// message is its own.
			if err := other.Send(wsclient.Binary, []byte("b")); err != nil {
				t.Fatal(err)
			}
			if msg := other.next(t); msg.err != nil || msg.typ != wsclient.Binary || string(msg.data) != "b" {
				t.Fatalf("the member of room b got %v, want its own binary message", msg)
			}
		})
	}
}

// whoSaid returns the speaker and index of a message of TestChatRooms.
func whoSaid(msg message) (i, k int, ok bool) {
	if msg.err != nil {
		return 0, 0, false
	}
	if msg.typ == wsclient.Text {
		if _, err := fmt.Sscanf(string(msg.data), "member %d says %d", &i, &k); err != nil || k%2 != 0 {
			return 0, 0, false
		}
	} else {
		if len(msg.data) != 4 || msg.data[2] != 0 || msg.data[3] != 255 {
			return 0, 0, false
		}
		i, k = int(msg.data[0]), int(msg.data[1])
		if k%2 != 1 {
			return 0, 0, false
		}
	}
	t, data := said(i, k)
	return i, k, 0 <= i && i < 3 && t == msg.typ && bytes.Equal(data, msg.data)
}

// TestChatRefused, for both APIs: a handshake without a valid room gets 400
// and says why; a message longer than maxChatMessage closes its sender
// with 1009, and the room goes on without it.
func TestChatRefused(t *testing.T) {
	for _, api := range []string{"blocking", "event"} {
		t.Run(api, func(t *testing.T) {
			srv := startServer(t, "-api", api)
			addr := srv.Addr().String()
			ctx, cancel := context.WithTimeout(t.Context(), wait)
			defer cancel()
			for _, q := range []string{"", "?room=", "?room=a%20b", "?room=a.b", "?room=" + strings.Repeat("r", maxRoomName+1), "?room=a&room=b", "?room=%zz", "?name=a"} {
				c, resp, err := wsclient.Dial(ctx, "ws://"+addr+"/chat"+q, nil)
				if err == nil {
					c.CloseNow()
					t.Errorf("/chat%s: accepted", q)
					continue
				}
				if !errors.Is(err, wsclient.ErrRefused) || resp.StatusCode != 400 || !bytes.Contains(resp.Body, []byte("/chat?room=NAME")) {
					t.Errorf("/chat%s: %v, want 400 naming the room parameter", q, err)
				}
			}
			ok := "?room=" + strings.Repeat("Z9_-", maxRoomName/4)
			c, _, err := wsclient.Dial(ctx, "ws://"+addr+"/chat"+ok, nil)
			if err != nil {
				t.Fatalf("/chat%s: %v", ok, err)
			}
			c.CloseNow()

			big, small := join(t, addr, "r"), join(t, addr, "r")
			awaitSubscribers(t, srv, "chat.r", 2)
			if err := big.Send(wsclient.Binary, make([]byte, maxChatMessage+1)); err != nil {
				t.Fatal(err)
			}
			var ce *wsclient.CloseError
			if msg := big.next(t); !errors.As(msg.err, &ce) || ce.Code != 1009 {
				t.Fatalf("after %d bytes: %v, want close 1009", maxChatMessage+1, msg)
			}
			if err := small.Send(wsclient.Binary, make([]byte, maxChatMessage)); err != nil {
				t.Fatal(err)
			}
			if msg := small.next(t); msg.err != nil || len(msg.data) != maxChatMessage {
				t.Fatalf("the member left got %v, want its own %d bytes", msg, maxChatMessage)
			}
		})
	}
}

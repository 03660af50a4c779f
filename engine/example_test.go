package engine_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/volley-ws/volley/conn"
	"github.com/volley-ws/volley/engine"
	"github.com/volley-ws/volley/internal/wsclient"
	"github.com/volley-ws/volley/upgrade"
)

// The echo service of the README, with a client talking to it (the
// project's small test client; any WebSocket client will do).
func ExampleServer_HandleFunc() {
	srv := engine.New(engine.Config{Addr: "127.0.0.1:0"})
	srv.HandleFunc("/echo", func(ctx *upgrade.Context) {
		up := ctx.Upgrader()
		if up == nil {
			ctx.SetStatusCode(http.StatusBadRequest)
			return
		}
		ws, err := up.Upgrade()
		if err != nil {
			return
		}
		for ws.State() == conn.StateOpen {
			msg, err := ws.Receive()
			if err != nil {
				return
			}
			switch msg.Type {
			case conn.Text:
				ws.SendText("Echo: " + msg.Text())
			case conn.Close:
				ws.SendClose(conn.StatusNormalClosure, "")
			}
		}
	})
	if err := srv.Start(); err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Shutdown(context.Background())

	c, _, err := wsclient.Dial(context.Background(), "ws://"+srv.Addr().String()+"/echo", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.CloseNow()
	c.Send(wsclient.Text, []byte("hello"))
	_, reply, _ := c.Receive(context.Background())
	fmt.Println(string(reply))
	// Output: Echo: hello
}

type exampleEcho struct{}

func (exampleEcho) OnOpen(*engine.Conn) {}
func (exampleEcho) OnMessage(c *engine.Conn, t conn.MessageType, payload []byte) {
	c.Send(t, payload) // payload is only valid during the call; Send copies it
}
func (exampleEcho) OnClose(*engine.Conn, error) {}

// An echo service on the event loop: no goroutine per connection.
func ExampleServer_HandleEvents() {
	srv := engine.New(engine.Config{Addr: "127.0.0.1:0"})
	srv.HandleEvents("/echo", exampleEcho{})
	if err := srv.Start(); err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Shutdown(context.Background())

	c, _, err := wsclient.Dial(context.Background(), "ws://"+srv.Addr().String()+"/echo", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.CloseNow()
	c.Send(wsclient.Binary, []byte{1, 2, 3})
	typ, reply, _ := c.Receive(context.Background())
	fmt.Println(typ == wsclient.Binary, reply)
	// Output: true [1 2 3]
}

// noCopyEcho echoes with SendNoCopy: a payload from 1 KiB on goes out
// from the server's input buffer, with writev, instead of being copied.
type noCopyEcho struct{ exampleEcho }

func (noCopyEcho) OnMessage(c *engine.Conn, t conn.MessageType, payload []byte) {
	c.SendNoCopy(t, payload) // payload must not change until the callback returns
}

// An echo of large messages that never copies them: SendNoCopy of the
// received payload.
func ExampleConn_SendNoCopy() {
	srv := engine.New(engine.Config{Addr: "127.0.0.1:0"})
	srv.HandleEvents("/echo", noCopyEcho{})
	if err := srv.Start(); err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Shutdown(context.Background())

	c, _, err := wsclient.Dial(context.Background(), "ws://"+srv.Addr().String()+"/echo", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.CloseNow()
	msg := bytes.Repeat([]byte("volley "), 10_000)
	c.Send(wsclient.Binary, msg)
	_, reply, _ := c.Receive(context.Background())
	fmt.Println(len(reply), bytes.Equal(reply, msg))
	// Output: 70000 true
}

// chatRoom puts every connection in the room "lobby" and relays what each
// one sends to the whole room, the sender included.
type chatRoom struct{ srv *engine.Server }

func (r chatRoom) OnOpen(c *engine.Conn) { c.Subscribe("lobby") }
func (r chatRoom) OnMessage(c *engine.Conn, t conn.MessageType, payload []byte) {
	r.srv.Publish("lobby", t, payload) // framed once for every subscriber; payload is not kept
}
func (chatRoom) OnClose(*engine.Conn, error) {} // subscriptions end with the connection

// A chat room: Subscribe on open, Publish each message to the room. With
// Config.Broker the room spans every node of a cluster.
func ExampleServer_Publish() {
	srv := engine.New(engine.Config{Addr: "127.0.0.1:0"})
	srv.HandleEvents("/chat", chatRoom{srv})
	if err := srv.Start(); err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Shutdown(context.Background())

	url := "ws://" + srv.Addr().String() + "/chat"
	alice, _, _ := wsclient.Dial(context.Background(), url, nil)
	bob, _, _ := wsclient.Dial(context.Background(), url, nil)
	defer alice.CloseNow()
	defer bob.CloseNow()
	for srv.Subscribers("lobby") < 2 { // both joined
		time.Sleep(time.Millisecond)
	}
	alice.Send(wsclient.Text, []byte("hi, Bob"))
	_, toBob, _ := bob.Receive(context.Background())
	_, toAlice, _ := alice.Receive(context.Background())
	fmt.Println(string(toBob), "/", string(toAlice), "/", srv.Topics())
	// Output: hi, Bob / hi, Bob / [lobby]
}

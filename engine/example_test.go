package engine_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"

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

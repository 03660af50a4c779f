package conn_test

import (
	"context"
	"fmt"

	"github.com/volley-ws/volley/conn"
	"github.com/volley-ws/volley/engine"
	"github.com/volley-ws/volley/internal/wsclient"
	"github.com/volley-ws/volley/upgrade"
)

// serve runs handler for /ws on a fresh server and returns a connected
// client (the project's small test client; any WebSocket client will do)
// and a function that stops both.
func serve(handler func(ws conn.WebSocket)) (*wsclient.Conn, func()) {
	srv := engine.New(engine.Config{Addr: "127.0.0.1:0"})
	srv.HandleFunc("/ws", func(ctx *upgrade.Context) {
		if up := ctx.Upgrader(); up != nil {
			if ws, err := up.Upgrade(); err == nil {
				handler(ws)
			}
		}
	})
	if err := srv.Start(); err != nil {
		panic(err)
	}
	c, _, err := wsclient.Dial(context.Background(), "ws://"+srv.Addr().String()+"/ws", nil)
	if err != nil {
		panic(err)
	}
	return c, func() { c.CloseNow(); srv.Shutdown(context.Background()) }
}

// ReceiveFrame hands a message over in parts that fit the caller's buffer.
func ExampleWebSocket_ReceiveFrame() {
	done := make(chan struct{})
	c, stop := serve(func(ws conn.WebSocket) {
		defer close(done)
		buf := make([]byte, 4)
		for {
			res, err := ws.ReceiveFrame(buf)
			if err != nil {
				return
			}
			fmt.Printf("%s %q end=%v\n", res.Type, buf[:res.Count], res.EndOfMessage)
			if res.EndOfMessage {
				return
			}
		}
	})
	defer stop()
	c.Send(wsclient.Text, []byte("hello volley"))
	<-done
	// Output:
	// text "hell" end=false
	// text "o vo" end=false
	// text "lley" end=true
}

// SendFrame sends one message in fragments; the peer receives it whole.
func ExampleWebSocket_SendFrame() {
	c, stop := serve(func(ws conn.WebSocket) {
		ws.SendFrame([]byte("frag"), conn.Text, false)
		ws.SendFrame([]byte("men"), conn.Text, false)
		ws.SendFrame([]byte("ted"), conn.Text, true)
		ws.Receive() // wait for the client's close
	})
	defer stop()
	_, msg, _ := c.Receive(context.Background())
	fmt.Println(string(msg))
	// Output: fragmented
}

// The close handshake seen from a handler: Receive returns the peer's close,
// SendClose answers it.
func ExampleWebSocket_SendClose() {
	done := make(chan struct{})
	c, stop := serve(func(ws conn.WebSocket) {
		defer close(done)
		msg, _ := ws.Receive()
		fmt.Println(msg.Type, msg.CloseStatus, msg.CloseReason, ws.State())
		ws.SendClose(msg.CloseStatus, "")
		fmt.Println(ws.State())
	})
	defer stop()
	c.SendClose(4000, "done")
	<-done
	// Output:
	// close StatusCode(4000) done CloseReceived
	// Closed
}

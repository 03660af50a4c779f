package engine_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/volley-ws/volley/conn"
	"github.com/volley-ws/volley/engine"
	"github.com/volley-ws/volley/upgrade"
)

func smokeEcho(ctx *upgrade.Context) {
	up := ctx.Upgrader()
	if up == nil {
		ctx.SetStatusCode(400)
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
		case conn.Text, conn.Binary:
			ws.Send(msg.Type, msg.Data)
		case conn.Close:
			ws.SendClose(msg.CloseStatus, "")
		}
	}
}

func TestSmoke(t *testing.T) {
	srv := engine.New(engine.Config{Addr: "127.0.0.1:0", EventLoops: 2})
	srv.HandleFunc("/echo", smokeEcho)
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown(context.Background())
	c, _, err := websocket.DefaultDialer.Dial("ws://"+srv.Addr().String()+"/echo", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, 1, 125, 126, 65535, 65536, 1 << 20} {
		msg := bytes.Repeat([]byte("a"), n)
		if err := c.WriteMessage(websocket.BinaryMessage, msg); err != nil {
			t.Fatal(err)
		}
		typ, got, err := c.ReadMessage()
		if err != nil || typ != websocket.BinaryMessage || !bytes.Equal(got, msg) {
			t.Fatalf("n=%d: typ %d err %v len %d", n, typ, err, len(got))
		}
	}
	c.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(1000, "bye"))
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	_, _, err = c.ReadMessage()
	if ce, ok := err.(*websocket.CloseError); !ok || ce.Code != 1000 {
		t.Fatalf("close: %v", err)
	}
}

package main

import (
	"net/http"

	"github.com/volley-ws/volley/conn"
	"github.com/volley-ws/volley/engine"
	"github.com/volley-ws/volley/upgrade"
)

// echo sends every text and binary message back unchanged, with its type,
// and answers the peer's close.
func echo(ctx *upgrade.Context) {
	up := ctx.Upgrader()
	if up == nil {
		ctx.SetStatusCode(http.StatusBadRequest)
		ctx.WriteString("this is a WebSocket endpoint\n")
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
			if err := ws.Send(msg.Type, msg.Data); err != nil {
				return
			}
		case conn.Close:
			ws.SendClose(msg.CloseStatus, "")
		}
	}
}

// echoEvents is the same echo on the event-loop API: no goroutine per
// connection, the payload echoed from gnet's buffer during the callback
// (SendNoCopy: from 1 KiB on, written from there without a copy).
type echoEvents struct{}

func (echoEvents) OnOpen(*engine.Conn) {}

func (echoEvents) OnMessage(c *engine.Conn, t conn.MessageType, payload []byte) {
	if err := c.SendNoCopy(t, payload); err != nil {
		c.Close(conn.StatusTryAgainLater, "send queue full")
	}
}

func (echoEvents) OnClose(*engine.Conn, error) {}

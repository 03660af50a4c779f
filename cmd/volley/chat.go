package main

import (
	"net/http"
	"sync"

	"github.com/volley-ws/volley/conn"
	"github.com/volley-ws/volley/upgrade"
)

// room is a chat room: every text message a member sends goes to every
// member, the sender included. A member that does not keep up misses
// messages instead of holding the room up: broadcasts use TrySend, which
// never waits for a slow peer.
type room struct {
	mu      sync.Mutex
	members map[conn.WebSocket]struct{}
}

// maxChatMessage is the longest chat message the room relays.
const maxChatMessage = 4 << 10

// serve is the room's handler: it upgrades, joins the member and relays
// its text messages until it leaves.
func (r *room) serve(ctx *upgrade.Context) {
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
	r.join(ws)
	defer r.leave(ws)
	for {
		msg, err := ws.Receive()
		if err != nil {
			return
		}
		switch {
		case msg.Type == conn.Close:
			ws.SendClose(msg.CloseStatus, "")
			return
		case msg.Type != conn.Text:
			ws.Close(conn.StatusUnsupportedData, "text only")
			return
		case len(msg.Data) > maxChatMessage:
			ws.Close(conn.StatusMessageTooBig, "4 KiB at most")
			return
		}
		r.broadcast(msg.Data)
	}
}

func (r *room) join(ws conn.WebSocket) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.members == nil {
		r.members = make(map[conn.WebSocket]struct{})
	}
	r.members[ws] = struct{}{}
}

func (r *room) leave(ws conn.WebSocket) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.members, ws)
}

// broadcast sends p to every member that has room for it; it never waits.
// p is copied by each send, so it may be reused once broadcast returns.
func (r *room) broadcast(p []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for m := range r.members {
		// A member that is behind misses this message; one that is
		// ending refuses it and leaves when its handler returns.
		_ = m.TrySend(conn.Text, p)
	}
}

package main

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/volley-ws/volley/conn"
	"github.com/volley-ws/volley/engine"
	"github.com/volley-ws/volley/internal/logattr"
	"github.com/volley-ws/volley/upgrade"
)

// Chat rooms on /chat?room=NAME. Every message a member sends, text or
// binary, goes unchanged to every member of the room, the sender included,
// on every node of the cluster (-nats): a room is the topic chatTopicPrefix
// + NAME, each member subscribes to it when its WebSocket opens, and each
// message is published with Server.Publish, which delivers to the local
// subscribers and hands the message to the broker for the other nodes. A
// member that does not keep up is closed by the engine (close 1008, "slow
// subscriber") instead of holding the room up.

// chatTopicPrefix is put before a room's name to make its topic.
const chatTopicPrefix = "chat."

// maxRoomName is the longest room name, in bytes.
const maxRoomName = 64

// maxChatMessage is the longest message a room relays: a member that sends
// a longer one is closed with 1009. It keeps each message well under the
// 1 MiB a NATS server accepts by default.
const maxChatMessage = 64 << 10

// errBadRoom refuses a /chat request that names no valid room.
var errBadRoom = &upgrade.StatusError{
	Status: http.StatusBadRequest,
	Reason: fmt.Sprintf("chat: the room must be 1 to %d letters, digits, '-' or '_': /chat?room=NAME", maxRoomName),
}

// chatTopic returns the topic of the room a /chat request's query string
// names, or errBadRoom.
func chatTopic(rawQuery string) (string, error) {
	q, err := url.ParseQuery(rawQuery)
	if err != nil || len(q["room"]) != 1 || !validRoom(q.Get("room")) {
		return "", errBadRoom
	}
	return chatTopicPrefix + q.Get("room"), nil
}

// validRoom reports whether name is 1 to maxRoomName ASCII letters, digits,
// '-' or '_': names that fit in a URL, a NATS subject and a log line as
// they are.
func validRoom(name string) bool {
	if name == "" || len(name) > maxRoomName {
		return false
	}
	for i := 0; i < len(name); i++ {
		switch c := name[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_':
		default:
			return false
		}
	}
	return true
}

// chat serves the rooms with the blocking API: a goroutine per member.
type chat struct {
	srv  *engine.Server
	errs *rateLog
}

// serve checks the room, upgrades, subscribes the member to the room and
// publishes its messages until it leaves.
func (ch chat) serve(ctx *upgrade.Context) {
	topic, err := chatTopic(ctx.Request().RawQuery)
	if err != nil {
		ctx.SetStatusCode(errBadRoom.Status)
		ctx.WriteString(errBadRoom.Reason + "\n")
		return
	}
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
	// Subscriptions end with the connection: no Unsubscribe to defer.
	if err := ws.Subscribe(topic); err != nil {
		return // conn.ErrClosed: it is gone already
	}
	for {
		msg, err := ws.Receive()
		if err != nil {
			return
		}
		switch {
		case msg.Type == conn.Close:
			ws.SendClose(msg.CloseStatus, "")
			return
		case len(msg.Data) > maxChatMessage:
			ws.Close(conn.StatusMessageTooBig, "64 KiB at most")
			return
		}
		publish(ch.srv, ch.errs, topic, msg.Type, msg.Data)
	}
}

// chatEvents serves the rooms with the event API: the room is checked
// before the 101 (OnHandshake), and messages are published from the event
// loop, which Server.Publish allows (it never waits for a peer).
type chatEvents struct {
	srv  *engine.Server
	errs *rateLog
}

// OnHandshake refuses a request without a valid room with 400 and passes
// the room's topic on to the callbacks.
func (chatEvents) OnHandshake(hs *engine.Handshake) error {
	topic, err := chatTopic(hs.Request().RawQuery)
	if err != nil {
		return err
	}
	hs.SetUserData(topic)
	return nil
}

func (chatEvents) OnOpen(c *engine.Conn) {
	if err := c.Subscribe(c.UserData().(string)); err != nil {
		c.Close(conn.StatusInternalError, "cannot join the room")
	}
}

func (h chatEvents) OnMessage(c *engine.Conn, t conn.MessageType, p []byte) {
	if len(p) > maxChatMessage {
		c.Close(conn.StatusMessageTooBig, "64 KiB at most")
		return
	}
	publish(h.srv, h.errs, c.UserData().(string), t, p)
}

// OnClose has nothing to do: subscriptions end with the connection.
func (chatEvents) OnClose(*engine.Conn, error) {}

// publish sends a member's message to its room. The only error left for a
// message the engine received is the broker's (the members on this node got
// it, the other nodes did not): it is logged, at most every rateLogEvery.
func publish(srv *engine.Server, errs *rateLog, topic string, t conn.MessageType, p []byte) {
	if err := srv.Publish(topic, t, p); err != nil {
		errs.warn("volley: chat: publish failed", logattr.Topic(topic), logattr.Err(err))
	}
}

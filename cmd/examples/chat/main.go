// Command chat serves chat rooms: a WebSocket on /chat?room=NAME joins the
// room NAME, and every message a member sends goes to every member of that
// room, the sender included. A page on / lets two browser tabs talk.
//
//	go run ./cmd/examples/chat -addr 127.0.0.1:8080
//
// A room is a topic: each member's connection subscribes to it, and each
// message is published to it once, however many members there are. This
// example uses the blocking API (a goroutine per member, Send/Receive).
package main

import (
	"context"
	"flag"
	"log"
	"net"
	"net/http"
	"os/signal"
	"regexp"
	"syscall"
	"time"

	"github.com/volley-ws/volley/conn"
	"github.com/volley-ws/volley/engine"
	"github.com/volley-ws/volley/upgrade"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address host:port")
	flag.Parse()
	// The context ends on SIGINT or SIGTERM: run then shuts down.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	ready := func(a net.Addr) { log.Printf("chat on http://%s/", a) }
	if err := run(ctx, *addr, ready); err != nil {
		log.Fatal(err)
	}
}

// run serves on addr, calls ready with the address once it accepts
// connections, and shuts down gracefully when ctx ends.
func run(ctx context.Context, addr string, ready func(net.Addr)) error {
	srv := engine.New(engine.Config{
		Addr:           addr,
		MaxMessageSize: 64 << 10, // a larger message closes its sender with 1009
	})
	srv.HandleFunc("/chat", func(c *upgrade.Context) { member(srv, c) })
	srv.HandleFunc("/", func(c *upgrade.Context) {
		c.SetHeader("Content-Type", "text/html; charset=utf-8")
		c.WriteString(page)
	})
	if err := srv.Start(); err != nil {
		return err
	}
	ready(srv.Addr())
	<-ctx.Done()
	// Shutdown sends close 1001 to every member and waits for them to go.
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}

var roomName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// member serves one member of a room on its own goroutine.
func member(srv *engine.Server, c *upgrade.Context) {
	room := c.Query().Get("room")
	if !roomName.MatchString(room) {
		c.SetStatusCode(http.StatusBadRequest) // answered before any upgrade
		c.WriteString("/chat?room=NAME: 1 to 64 letters, digits, - or _\n")
		return
	}
	up := c.Upgrader() // nil when the request is not a WebSocket handshake
	if up == nil {
		c.SetStatusCode(http.StatusUpgradeRequired)
		return
	}
	ws, err := up.Upgrade() // refuses a bad handshake itself (400, 403, ...)
	if err != nil {
		return
	}
	topic := "room." + room
	// From here on, every message published to the room reaches ws; the
	// subscription ends with the connection, nothing to undo.
	if ws.Subscribe(topic) != nil {
		return
	}
	ws.SendText("joined " + room) // after Subscribe: the member hears all that follows
	for {
		msg, err := ws.Receive() // a whole message; Data is valid until the next Receive
		if err != nil {
			return // the connection failed or was closed (Shutdown: 1001)
		}
		if msg.Type == conn.Close {
			ws.SendClose(msg.CloseStatus, "") // the peer leaves: answer its close
			return
		}
		// Framed once for the whole room, the sender included (ws.Publish
		// would skip it). It never waits: a member too slow to read is
		// closed with 1008 instead (Config.SlowSubscriber's default).
		srv.Publish(topic, msg.Type, msg.Data)
	}
}

const page = `<!doctype html><title>volley chat</title>
<p>Room <input id=room value=lobby> <button onclick=join()>join</button></p>
<form onsubmit="ws.send(text.value); text.value=''; return false">
<input id=text size=50 placeholder=message> <button>send</button></form>
<pre id=log></pre>
<script>
let ws;
function join() {
  if (ws) ws.close();
  ws = new WebSocket("ws://" + location.host + "/chat?room=" + encodeURIComponent(room.value));
  ws.onmessage = e => log.textContent += e.data + "\n";
  ws.onclose = e => log.textContent += "(closed " + e.code + ")\n";
}
join();
</script>`

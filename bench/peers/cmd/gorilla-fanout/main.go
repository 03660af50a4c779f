// Command gorilla-fanout is the gorilla/websocket peer of the volley
// fan-out benchmark (bench/cmd/fanload): every connection joins one topic
// when it opens, and every message a connection sends goes to every
// member, the sender included, with its type.
//
// It is gorilla's examples/chat as written: a Hub goroutine owning the set
// of clients (register, unregister and broadcast channels), a read
// goroutine and a writer goroutine per connection with a buffered send
// channel, write deadlines and pings. As gorilla's documentation
// recommends for sending one message to many connections, the reader
// wraps each message once in a PreparedMessage (the frame is built once)
// and the writers send it with WritePreparedMessage. As in the example, a
// client whose send channel is full is dropped (-queue messages, 256 as
// in the example).
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"time"

	"github.com/gorilla/websocket"
)

const (
	writeWait  = 10 * time.Second    // time allowed to write a message
	pongWait   = 60 * time.Second    // time allowed to read the next pong
	pingPeriod = (pongWait * 9) / 10 // pings at this period
	maxMessage = 64 << 10            // largest message read
)

var upgrader = websocket.Upgrader{} // default options, as gorilla-echo

// hub is the topic: the set of its clients, owned by run.
type hub struct {
	clients    map[*client]bool
	broadcast  chan *websocket.PreparedMessage
	register   chan *client
	unregister chan *client
}

func newHub() *hub {
	return &hub{
		clients:    make(map[*client]bool),
		broadcast:  make(chan *websocket.PreparedMessage),
		register:   make(chan *client),
		unregister: make(chan *client),
	}
}

func (h *hub) run() {
	for {
		select {
		case c := <-h.register:
			h.clients[c] = true
		case c := <-h.unregister:
			if _, ok := h.clients[c]; ok {
				delete(h.clients, c)
				close(c.send)
			}
		case m := <-h.broadcast:
			for c := range h.clients {
				select {
				case c.send <- m:
				default: // too far behind: dropped, as in the example
					close(c.send)
					delete(h.clients, c)
				}
			}
		}
	}
}

type client struct {
	hub  *hub
	conn *websocket.Conn
	send chan *websocket.PreparedMessage
}

// readPump publishes every message the client sends.
func (c *client) readPump() {
	defer func() {
		c.hub.unregister <- c
		c.conn.Close()
	}()
	c.conn.SetReadLimit(maxMessage)
	_ = c.conn.SetReadDeadline(time.Now().Add(pongWait))
	c.conn.SetPongHandler(func(string) error { return c.conn.SetReadDeadline(time.Now().Add(pongWait)) })
	for {
		mt, msg, err := c.conn.ReadMessage()
		if err != nil {
			return
		}
		pm, err := websocket.NewPreparedMessage(mt, msg)
		if err != nil {
			return
		}
		c.hub.broadcast <- pm
	}
}

// writePump writes what the hub sends the client, and the pings.
func (c *client) writePump() {
	ticker := time.NewTicker(pingPeriod)
	defer func() {
		ticker.Stop()
		c.conn.Close()
	}()
	for {
		select {
		case pm, ok := <-c.send:
			_ = c.conn.SetWriteDeadline(time.Now().Add(writeWait))
			if !ok {
				_ = c.conn.WriteMessage(websocket.CloseMessage, []byte{})
				return
			}
			if err := c.conn.WritePreparedMessage(pm); err != nil {
				return
			}
		case <-ticker.C:
			_ = c.conn.SetWriteDeadline(time.Now().Add(writeWait))
			if err := c.conn.WriteMessage(websocket.PingMessage, nil); err != nil {
				return
			}
		}
	}
}

func main() {
	addr := flag.String("addr", "127.0.0.1:9001", "listen address")
	queue := flag.Int("queue", 256, "messages queued per client before it is dropped")
	flag.Parse()
	h := newHub()
	go h.run()
	mux := http.NewServeMux()
	mux.HandleFunc("/fanout", func(w http.ResponseWriter, r *http.Request) {
		conn, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return // Upgrade has answered the client
		}
		c := &client{hub: h, conn: conn, send: make(chan *websocket.PreparedMessage, *queue)}
		h.register <- c
		go c.writePump()
		go c.readPump()
	})
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("gorilla-fanout listening on %s\n", ln.Addr())
	log.Fatal(http.Serve(ln, mux))
}

// Command nbio-fanout is the lesismal/nbio peer of the volley fan-out
// benchmark (bench/cmd/fanload): every connection joins one topic when it
// opens, and every message a connection sends goes to every member, the
// sender included, with its type.
//
// nbio has no broadcast helper; this is the hub its users write: the
// connections in a map under a mutex (added in the Upgrader's OnOpen,
// removed in OnClose), and OnMessage writing the message to each with
// WriteMessage, which in nbio's non-blocking mode queues the frame on the
// connection and never waits. Engine as nbio-echo: an nbhttp engine in
// IOModNonBlocking, payload buffers back to nbio's pool after each
// OnMessage (ReleaseWebsocketPayload).
package main

import (
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/lesismal/nbio/nbhttp"
	"github.com/lesismal/nbio/nbhttp/websocket"
)

// hub is the topic's members.
type hub struct {
	mu    sync.Mutex
	conns map[*websocket.Conn]struct{}
}

func (h *hub) join(c *websocket.Conn) {
	h.mu.Lock()
	h.conns[c] = struct{}{}
	h.mu.Unlock()
}

func (h *hub) leave(c *websocket.Conn) {
	h.mu.Lock()
	delete(h.conns, c)
	h.mu.Unlock()
}

func (h *hub) broadcast(mt websocket.MessageType, data []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.conns {
		_ = c.WriteMessage(mt, data)
	}
}

func main() {
	addr := flag.String("addr", "127.0.0.1:9001", "listen address")
	flag.Parse()

	h := &hub{conns: make(map[*websocket.Conn]struct{})}
	upgrader := websocket.NewUpgrader()
	upgrader.OnOpen(h.join)
	upgrader.OnClose(func(c *websocket.Conn, _ error) { h.leave(c) })
	upgrader.OnMessage(func(_ *websocket.Conn, mt websocket.MessageType, data []byte) {
		h.broadcast(mt, data)
	})
	mux := &http.ServeMux{}
	mux.HandleFunc("/fanout", func(w http.ResponseWriter, r *http.Request) {
		if _, err := upgrader.Upgrade(w, r, nil); err != nil {
			return
		}
	})
	engine := nbhttp.NewEngine(nbhttp.Config{
		Network:                 "tcp",
		Addrs:                   []string{*addr},
		Handler:                 mux,
		IOMod:                   nbhttp.IOModNonBlocking,
		ReleaseWebsocketPayload: true,
	})
	if err := engine.Start(); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("nbio-fanout listening on %s\n", *addr)

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	engine.Stop()
}

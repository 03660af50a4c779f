// Command nbio-echo is the lesismal/nbio peer of the volley benchmarks:
// an nbhttp engine in non-blocking mode (every connection on nbio's epoll
// pollers, no goroutine per connection) with nbio's websocket Upgrader,
// whose OnMessage echoes with WriteMessage; payload buffers go back to
// nbio's pool after each OnMessage (ReleaseWebsocketPayload), as in its
// 1M-connection example.
package main

import (
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/lesismal/nbio/nbhttp"
	"github.com/lesismal/nbio/nbhttp/websocket"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9001", "listen address")
	flag.Parse()

	upgrader := websocket.NewUpgrader()
	upgrader.OnMessage(func(c *websocket.Conn, mt websocket.MessageType, data []byte) {
		_ = c.WriteMessage(mt, data)
	})
	mux := &http.ServeMux{}
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
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
	fmt.Printf("nbio-echo listening on %s\n", *addr)

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	engine.Stop()
}

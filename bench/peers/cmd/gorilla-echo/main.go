// Command gorilla-echo is the gorilla/websocket peer of the volley
// benchmarks: net/http, the package's Upgrader with default options and a
// goroutine per connection echoing with ReadMessage/WriteMessage, as in
// gorilla's examples/echo.
//
// For the hostile-client benchmark (bench/cmd/hostile), -deflate sets the
// Upgrader's EnableCompression and -max-message calls SetReadLimit on every
// connection (gorilla counts the bytes on the wire, before inflating);
// both are off by default, so the echo benchmarks run gorilla as above.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"

	"github.com/gorilla/websocket"
)

var upgrader = websocket.Upgrader{} // default options, as the example

var maxMessage int64 // -max-message: SetReadLimit, when positive

func echo(w http.ResponseWriter, r *http.Request) {
	c, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // Upgrade has answered the client
	}
	defer c.Close()
	if maxMessage > 0 {
		c.SetReadLimit(maxMessage)
	}
	for {
		mt, msg, err := c.ReadMessage()
		if err != nil {
			return
		}
		if err := c.WriteMessage(mt, msg); err != nil {
			return
		}
	}
}

func main() {
	addr := flag.String("addr", "127.0.0.1:9001", "listen address")
	flag.BoolVar(&upgrader.EnableCompression, "deflate", false, "accept permessage-deflate")
	flag.Int64Var(&maxMessage, "max-message", 0, "SetReadLimit on every connection, bytes (0: no limit)")
	flag.Parse()
	mux := http.NewServeMux()
	mux.HandleFunc("/echo", echo)
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("gorilla-echo listening on %s\n", ln.Addr())
	log.Fatal(http.Serve(ln, mux))
}

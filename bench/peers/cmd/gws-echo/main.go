// Command gws-echo is the lxzan/gws peer of the volley benchmarks: gws's
// own server (gws.NewServer, the README's quick start) with an event
// handler whose OnMessage echoes with WriteMessage, configured like the
// package's examples/echo (UTF-8 checks on, panic recovery).
//
// ParallelEnabled stays at its default, false: messages of one connection
// are handled in order on its read goroutine. (The README's "best
// practice" turns it on for throughput, but then up to ParallelGolimit
// messages of one connection are handled at once, so the echoes of a
// pipelined client may come back out of order, which an echo benchmark
// that checks every byte cannot accept.)
//
// For the hostile-client benchmark (bench/cmd/hostile), -deflate turns on
// permessage-deflate and -max-message sets ReadMaxPayloadSize (which gws
// also applies to inflated messages); both are off by default, so the echo
// benchmarks run gws as above.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"

	"github.com/lxzan/gws"
)

type handler struct {
	gws.BuiltinEventHandler
}

func (handler) OnPing(socket *gws.Conn, payload []byte) {
	_ = socket.WritePong(payload)
}

func (handler) OnMessage(socket *gws.Conn, message *gws.Message) {
	defer message.Close()
	_ = socket.WriteMessage(message.Opcode, message.Bytes())
}

func main() {
	addr := flag.String("addr", "127.0.0.1:9001", "listen address")
	deflate := flag.Bool("deflate", false, "accept permessage-deflate")
	maxMessage := flag.Int("max-message", 0, "ReadMaxPayloadSize, bytes (0: gws's default, 16 MiB)")
	flag.Parse()
	srv := gws.NewServer(handler{}, &gws.ServerOption{
		CheckUtf8Enabled:   true,
		Recovery:           gws.Recovery,
		ReadMaxPayloadSize: *maxMessage,
		PermessageDeflate:  gws.PermessageDeflate{Enabled: *deflate},
	})
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("gws-echo listening on %s\n", ln.Addr())
	log.Fatal(srv.RunListener(ln))
}

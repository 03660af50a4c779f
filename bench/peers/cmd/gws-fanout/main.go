// Command gws-fanout is the lxzan/gws peer of the volley fan-out benchmark
// (bench/cmd/fanload): every connection joins one topic when it opens,
// and every message a connection sends goes to every member, the sender
// included, with its type.
//
// It follows gws's README and examples/push: the connections in a
// gws.ConcurrentMap (stored in OnOpen, deleted in OnClose), and each
// message sent to all of them through a gws.Broadcaster (the frame is
// built once; each connection's write is queued on its own write queue),
// closed after the loop. Server options as gws-echo: gws's own server,
// UTF-8 checks, panic recovery, ParallelEnabled off (a connection's
// messages are handled in order, so one publisher's messages are
// broadcast in order).
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
	conns *gws.ConcurrentMap[*gws.Conn, struct{}]
}

func (h *handler) OnOpen(socket *gws.Conn) { h.conns.Store(socket, struct{}{}) }

func (h *handler) OnClose(socket *gws.Conn, _ error) { h.conns.Delete(socket) }

func (h *handler) OnPing(socket *gws.Conn, payload []byte) { _ = socket.WritePong(payload) }

func (h *handler) OnMessage(socket *gws.Conn, message *gws.Message) {
	defer message.Close()
	b := gws.NewBroadcaster(message.Opcode, message.Bytes())
	defer b.Close()
	h.conns.Range(func(c *gws.Conn, _ struct{}) bool {
		_ = b.Broadcast(c)
		return true
	})
}

func main() {
	addr := flag.String("addr", "127.0.0.1:9001", "listen address")
	flag.Parse()
	h := &handler{conns: gws.NewConcurrentMap[*gws.Conn, struct{}]()}
	srv := gws.NewServer(h, &gws.ServerOption{
		CheckUtf8Enabled: true,
		Recovery:         gws.Recovery,
	})
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("gws-fanout listening on %s\n", ln.Addr())
	log.Fatal(srv.RunListener(ln))
}

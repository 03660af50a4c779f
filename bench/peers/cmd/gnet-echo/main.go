// Command gnet-echo is the ceiling for any server built on gnet: a plain
// TCP echo on panjf2000/gnet/v2 with multicore event loops, OnTraffic
// writing back everything it reads (gnet's README echo server). No
// WebSocket framing: benchmark it with wsload -mode raw.
package main

import (
	"flag"
	"fmt"
	"log"

	"github.com/panjf2000/gnet/v2"
)

type echoServer struct {
	gnet.BuiltinEventEngine
	addr string
}

func (es *echoServer) OnBoot(gnet.Engine) gnet.Action {
	fmt.Printf("gnet-echo listening on %s\n", es.addr)
	return gnet.None
}

func (es *echoServer) OnTraffic(c gnet.Conn) gnet.Action {
	buf, _ := c.Next(-1)
	_, _ = c.Write(buf)
	return gnet.None
}

func main() {
	addr := flag.String("addr", "127.0.0.1:9001", "listen address")
	flag.Parse()
	es := &echoServer{addr: *addr}
	log.Fatal(gnet.Run(es, "tcp://"+*addr, gnet.WithMulticore(true)))
}

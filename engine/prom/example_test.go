package prom_test

import (
	"context"
	"fmt"
	"log"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/volley-ws/volley/conn"
	"github.com/volley-ws/volley/engine"
	"github.com/volley-ws/volley/engine/prom"
)

// A server's counters on a registry of the program's own. A program serves
// the registry with promhttp.HandlerFor on its operations port, apart from
// the WebSocket server; here it is gathered once by hand.
func Example() {
	srv := engine.New(engine.Config{Addr: "127.0.0.1:0"})
	srv.HandleEvents("/feed", feed{})
	reg := prometheus.NewRegistry()
	reg.MustRegister(prom.NewCollector(srv))
	if err := srv.Start(); err != nil {
		log.Fatal(err)
	}
	defer srv.Shutdown(context.Background())

	families, err := reg.Gather()
	if err != nil {
		log.Fatal(err)
	}
	for _, f := range families {
		switch f.GetName() {
		case "volley_connections_open", "volley_websockets_open", "volley_topics":
			for _, m := range f.GetMetric() {
				fmt.Print(f.GetName())
				for _, l := range m.GetLabel() {
					fmt.Printf(" %s=%s", l.GetName(), l.GetValue())
				}
				fmt.Println(":", m.GetGauge().GetValue())
			}
		}
	}
	// Output:
	// volley_connections_open: 0
	// volley_topics: 0
	// volley_websockets_open api=event route=/feed: 0
}

// feed is an event route that ignores what its peers send.
type feed struct{}

func (feed) OnOpen(*engine.Conn)                              {}
func (feed) OnMessage(*engine.Conn, conn.MessageType, []byte) {}
func (feed) OnClose(*engine.Conn, error)                      {}

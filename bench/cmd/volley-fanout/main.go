// Command volley-fanout is volley's server in the fan-out benchmark
// (bench/cmd/fanload, bench/scripts/bench-fanout.sh): every connection to
// /fanout joins one topic when it opens, and every message a connection
// sends goes to every member, the sender included, with its type.
//
//	volley-fanout -api event                    # engine topics, event API
//	volley-fanout -api blocking                 # engine topics, a goroutine per WebSocket
//	volley-fanout -api event -mode registry     # no topics: a map of connections and Send
//	volley-fanout -api blocking -mode registry  # no topics: a map of WebSockets and TrySend
//
// With -mode topics (the default) the connection subscribes (OnOpen, or
// right after Upgrade) and each message received is published with
// Server.Publish: the engine frames it once and queues it to every
// subscriber. -mode registry is the server a user writes without topics:
// the connections in a map under a mutex, and each message sent to each of
// them in turn (Conn.Send on the event API, WebSocket.TrySend on the
// blocking one, as cmd/volley's chat room does); a connection whose queue
// is full misses the message.
//
// It shuts down (close 1001 to every WebSocket) on SIGINT or SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	_ "net/http/pprof" // served on -debug-addr only
	"os"
	"os/signal"
	"runtime/pprof"
	"sync"
	"syscall"
	"time"

	"github.com/volley-ws/volley/conn"
	"github.com/volley-ws/volley/engine"
	"github.com/volley-ws/volley/upgrade"
)

// topic is the one topic every connection joins.
const topic = "fanout"

type options struct {
	cfg        engine.Config
	api        string // "event" or "blocking"
	mode       string // "topics" or "registry"
	cpuProfile string
	debugAddr  string
}

func parseFlags(args []string) (options, error) {
	fs := flag.NewFlagSet("volley-fanout", flag.ContinueOnError)
	var o options
	fs.StringVar(&o.cfg.Addr, "addr", engine.DefaultAddr, "listen address host:port")
	fs.IntVar(&o.cfg.EventLoops, "loops", 0, "event loops (0: one per CPU)")
	fs.StringVar(&o.api, "api", "event", "event (callbacks on the event loop) or blocking (a goroutine per WebSocket)")
	fs.StringVar(&o.mode, "mode", "topics", "topics (Subscribe and Server.Publish) or registry (a map of connections, a send to each)")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile to this file until the server shuts down")
	fs.StringVar(&o.debugAddr, "debug-addr", "", "serve net/http/pprof (heap profiles during a run) on this loopback address")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	switch {
	case fs.NArg() > 0:
		return o, fmt.Errorf("volley-fanout: unexpected argument %q", fs.Arg(0))
	case o.api != "event" && o.api != "blocking":
		return o, fmt.Errorf("volley-fanout: -api must be event or blocking, not %q", o.api)
	case o.mode != "topics" && o.mode != "registry":
		return o, fmt.Errorf("volley-fanout: -mode must be topics or registry, not %q", o.mode)
	}
	return o, nil
}

// newServer builds the server the options describe.
func newServer(o options) *engine.Server {
	srv := engine.New(o.cfg)
	switch {
	case o.api == "event" && o.mode == "topics":
		srv.HandleEvents("/fanout", &topicEvents{srv: srv})
	case o.api == "event":
		srv.HandleEvents("/fanout", &registryEvents{conns: make(map[*engine.Conn]struct{})})
	case o.mode == "topics":
		srv.HandleFunc("/fanout", (&topicBlocking{srv: srv}).serve)
	default:
		srv.HandleFunc("/fanout", (&registryBlocking{conns: make(map[conn.WebSocket]struct{})}).serve)
	}
	return srv
}

// topicEvents: engine topics on the event API.
type topicEvents struct{ srv *engine.Server }

func (h *topicEvents) OnOpen(c *engine.Conn) {
	if err := c.Subscribe(topic); err != nil && !errors.Is(err, conn.ErrClosed) {
		log.Printf("volley-fanout: subscribe: %v", err)
		c.Close(conn.StatusInternalError, "subscribe failed")
	}
}

func (h *topicEvents) OnMessage(_ *engine.Conn, t conn.MessageType, payload []byte) {
	if err := h.srv.Publish(topic, t, payload); err != nil {
		log.Printf("volley-fanout: publish: %v", err)
	}
}

func (h *topicEvents) OnClose(*engine.Conn, error) {} // subscriptions end with the connection

// topicBlocking: engine topics on the blocking API.
type topicBlocking struct{ srv *engine.Server }

func (h *topicBlocking) serve(ctx *upgrade.Context) {
	ws := upgradeOrRefuse(ctx)
	if ws == nil {
		return
	}
	if err := ws.Subscribe(topic); err != nil {
		return
	}
	receive(ws, func(t conn.MessageType, data []byte) {
		if err := h.srv.Publish(topic, t, data); err != nil {
			log.Printf("volley-fanout: publish: %v", err)
		}
	})
}

// registryEvents: no topics, the event API; a map of connections and Send
// to each (never waits: a full queue refuses the message).
type registryEvents struct {
	mu    sync.Mutex
	conns map[*engine.Conn]struct{}
}

func (h *registryEvents) OnOpen(c *engine.Conn) {
	h.mu.Lock()
	h.conns[c] = struct{}{}
	h.mu.Unlock()
}

func (h *registryEvents) OnMessage(_ *engine.Conn, t conn.MessageType, payload []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.conns {
		_ = c.Send(t, payload) // a connection too far behind misses it
	}
}

func (h *registryEvents) OnClose(c *engine.Conn, _ error) {
	h.mu.Lock()
	delete(h.conns, c)
	h.mu.Unlock()
}

// registryBlocking: no topics, the blocking API; a map of WebSockets and
// TrySend to each, as cmd/volley's chat room.
type registryBlocking struct {
	mu    sync.Mutex
	conns map[conn.WebSocket]struct{}
}

func (h *registryBlocking) serve(ctx *upgrade.Context) {
	ws := upgradeOrRefuse(ctx)
	if ws == nil {
		return
	}
	h.mu.Lock()
	h.conns[ws] = struct{}{}
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		delete(h.conns, ws)
		h.mu.Unlock()
	}()
	receive(ws, func(t conn.MessageType, data []byte) {
		h.mu.Lock()
		defer h.mu.Unlock()
		for m := range h.conns {
			_ = m.TrySend(t, data) // a WebSocket too far behind misses it
		}
	})
}

// upgradeOrRefuse upgrades the request, or answers 400 to a plain HTTP
// request; nil when there is no WebSocket.
func upgradeOrRefuse(ctx *upgrade.Context) conn.WebSocket {
	up := ctx.Upgrader()
	if up == nil {
		ctx.SetStatusCode(http.StatusBadRequest)
		ctx.WriteString("this is a WebSocket endpoint\n")
		return nil
	}
	ws, err := up.Upgrade()
	if err != nil {
		return nil
	}
	return ws
}

// receive hands every text and binary message to publish until the
// connection ends, and answers the peer's close.
func receive(ws conn.WebSocket, publish func(conn.MessageType, []byte)) {
	for {
		msg, err := ws.Receive()
		if err != nil {
			return
		}
		switch msg.Type {
		case conn.Text, conn.Binary:
			publish(msg.Type, msg.Data)
		case conn.Close:
			ws.SendClose(msg.CloseStatus, "")
			return
		}
	}
}

func run(o options) error {
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if o.debugAddr != "" {
		host, _, err := net.SplitHostPort(o.debugAddr)
		if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
			return fmt.Errorf("volley-fanout: -debug-addr %q: a loopback address and port", o.debugAddr)
		}
		ln, err := net.Listen("tcp", o.debugAddr)
		if err != nil {
			return err
		}
		go func() { _ = http.Serve(ln, nil) }() // DefaultServeMux: net/http/pprof's handlers
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sig)
	srv := newServer(o)
	if err := srv.Start(); err != nil {
		return err
	}
	fmt.Printf("volley-fanout listening on ws://%s/fanout (%s API, %s)\n", srv.Addr(), o.api, o.mode)
	<-sig
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return srv.Shutdown(ctx)
}

func main() {
	o, err := parseFlags(os.Args[1:])
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if err := run(o); err != nil {
		log.Fatal(err)
	}
}

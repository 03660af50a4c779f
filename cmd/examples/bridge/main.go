// Command bridge mounts volley on an application's own net/http server:
// the application keeps its mux and its middleware (here, a login check),
// and the WebSockets that get through are handed to volley's event loops.
//
//	go run ./cmd/examples/bridge -addr 127.0.0.1:8080 -token demo-token
//
// GET / is an ordinary net/http page; ws://ADDR/ws/echo?token=demo-token is
// a volley echo behind the same listener. Over TLS a connection cannot be
// handed to a loop (a *tls.Conn has no socket to take over): terminate TLS
// in front (nginx, a load balancer), as the README shows.
package main

import (
	"context"
	"errors"
	"flag"
	"log"
	"net"
	"net/http"
	"os/signal"
	"syscall"
	"time"

	"github.com/volley-ws/volley/conn"
	"github.com/volley-ws/volley/engine"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "the net/http server's listen address host:port")
	token := flag.String("token", "demo-token", "the token clients must show (?token=...)")
	flag.Parse()
	// The context ends on SIGINT or SIGTERM: run then shuts down.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	ready := func(a net.Addr) { log.Printf("page on http://%s/, echo on ws://%s/ws/echo?token=%s", a, a, *token) }
	if err := run(ctx, *addr, *token, ready); err != nil {
		log.Fatal(err)
	}
}

// run serves the application on addr, calls ready with the address once it
// accepts connections, and shuts both servers down when ctx ends.
func run(ctx context.Context, addr, token string, ready func(net.Addr)) error {
	// BridgeOnly: volley takes no public port of its own; every WebSocket
	// comes through ServeHTTP.
	ws := engine.New(engine.Config{BridgeOnly: true})
	ws.HandleEvents("/ws/echo", echo{})
	if err := ws.Start(); err != nil {
		return err
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("an ordinary net/http page; the WebSocket is at /ws/echo\n"))
	})
	mux.Handle("/ws/", requireToken(token, ws)) // the application's middleware decides first

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		_ = ws.Shutdown(context.Background())
		return err
	}
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	ready(ln.Addr())

	select {
	case <-ctx.Done():
	case err = <-served:
	}
	// volley first: its Shutdown answers new handshakes 503 and sends 1001
	// to every WebSocket; then the application's server.
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = errors.Join(err, ws.Shutdown(sctx), hs.Shutdown(sctx))
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// requireToken is ordinary net/http middleware: requests without the token
// get 401 and never reach volley.
func requireToken(token string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("token") != token {
			http.Error(w, "token required", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// echo is an EventHandler: its callbacks run on the connection's event
// loop, whether volley accepted the connection or the bridge handed it over.
type echo struct{}

func (echo) OnOpen(*engine.Conn) {}

func (echo) OnMessage(c *engine.Conn, t conn.MessageType, payload []byte) {
	// payload is valid during the call only; Send copies it.
	if c.Send(t, payload) != nil {
		c.Close(conn.StatusPolicyViolation, "read your echoes")
	}
}

func (echo) OnClose(*engine.Conn, error) {}

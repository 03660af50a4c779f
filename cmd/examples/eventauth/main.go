// Command eventauth is an echo service on the event API that lets in only
// clients with a token: its handshake hook checks the token before the 101
// and refuses the handshake with 401 (no token) or 403 (an unknown one).
//
//	go run ./cmd/examples/eventauth -addr 127.0.0.1:8080 -tokens alice=s3cret
//
// A client sends "Authorization: Bearer s3cret", or ?token=s3cret in the
// URL, since browsers cannot set headers on a WebSocket. Query strings end
// up in proxies' access logs: hand browsers short-lived tokens. (Tokens on
// a command line are visible to ps: a real server reads them from a file or
// checks signed tokens.)
package main

import (
	"context"
	"flag"
	"log"
	"net"
	"net/http"
	"net/url"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/volley-ws/volley/conn"
	"github.com/volley-ws/volley/engine"
	"github.com/volley-ws/volley/upgrade"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address host:port")
	list := flag.String("tokens", "demo=demo-token", "the users and their tokens: user=token,user=token")
	flag.Parse()
	tokens := make(map[string]string) // token -> user
	for pair := range strings.SplitSeq(*list, ",") {
		user, token, ok := strings.Cut(pair, "=")
		if !ok || user == "" || token == "" {
			log.Fatalf("-tokens: %q is not user=token", pair)
		}
		tokens[token] = user
	}
	// The context ends on SIGINT or SIGTERM: run then shuts down.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	ready := func(a net.Addr) { log.Printf("echo on ws://%s/echo", a) }
	if err := run(ctx, *addr, tokens, ready); err != nil {
		log.Fatal(err)
	}
}

// run serves on addr, calls ready with the address once it accepts
// connections, and shuts down gracefully when ctx ends.
func run(ctx context.Context, addr string, tokens map[string]string, ready func(net.Addr)) error {
	srv := engine.New(engine.Config{Addr: addr})
	srv.HandleEvents("/echo", echo{tokens: tokens})
	if err := srv.Start(); err != nil {
		return err
	}
	ready(srv.Addr())
	<-ctx.Done()
	// Shutdown sends close 1001 to every client and waits for them to go.
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}

// echo is an EventHandler: its callbacks run on the connection's event
// loop and must not block. With OnHandshake it is also a
// HandshakeHandler, and decides who gets in.
type echo struct {
	tokens map[string]string // token -> user; only read, so safe on every loop
}

// OnHandshake runs before the 101 response, after the server checked the
// request is a valid WebSocket handshake (and its Origin).
func (e echo) OnHandshake(hs *engine.Handshake) error {
	r := hs.Request() // valid only during this call: it is in the read buffer
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		q, _ := url.ParseQuery(r.RawQuery)
		token = q.Get("token")
	}
	if token == "" {
		// A *upgrade.StatusError is the answer: status, header, body.
		return &upgrade.StatusError{Status: http.StatusUnauthorized, Reason: "token required",
			Header: []upgrade.HeaderField{{Name: "WWW-Authenticate", Value: `Bearer realm="echo"`}}}
	}
	user, ok := e.tokens[token]
	if !ok {
		return &upgrade.StatusError{Status: http.StatusForbidden, Reason: "unknown token"}
	}
	// The user name comes from the map, not from r: it outlives the call.
	hs.SetUserData(user)
	return nil
}

func (echo) OnOpen(c *engine.Conn) {
	c.SendText("hello, " + c.UserData().(string))
}

func (echo) OnMessage(c *engine.Conn, t conn.MessageType, payload []byte) {
	// payload is valid during the call only; Send copies it. Send never
	// waits: past Config.MaxUnsentBytes it returns conn.ErrSendQueueFull.
	if c.Send(t, payload) != nil {
		c.Close(conn.StatusPolicyViolation, "read your echoes")
	}
}

func (echo) OnClose(*engine.Conn, error) {}

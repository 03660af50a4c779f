// Command volley runs the volley WebSocket server with an echo service on
// /echo and a demo page on /.
//
//	go run ./cmd/volley                 # listens on 127.0.0.1:8080
//	go run ./cmd/volley -addr :9000 -loops 2 -max-message 1048576
//
// It shuts down gracefully (close 1001 to every WebSocket) on SIGINT or
// SIGTERM.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/volley-ws/volley/engine"
)

func main() {
	cfg, grace, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if err := run(cfg, grace); err != nil {
		log.Fatal(err)
	}
}

// parseFlags turns the command line into a Config and a shutdown grace
// period.
func parseFlags(args []string) (engine.Config, time.Duration, error) {
	fs := flag.NewFlagSet("volley", flag.ContinueOnError)
	var cfg engine.Config
	fs.StringVar(&cfg.Addr, "addr", engine.DefaultAddr, "listen address host:port")
	fs.IntVar(&cfg.EventLoops, "loops", 0, "event loops (0: one per CPU)")
	fs.Int64Var(&cfg.MaxMessageSize, "max-message", engine.DefaultMaxMessageSize, "largest message accepted, bytes (close 1009 above)")
	fs.IntVar(&cfg.MaxHandshakeBytes, "max-handshake", engine.DefaultMaxHandshakeBytes, "largest HTTP request head, bytes (431 above)")
	fs.IntVar(&cfg.MaxUnreadBytes, "max-unread", engine.DefaultMaxUnreadBytes, "received bytes queued per WebSocket before close 1008")
	fs.IntVar(&cfg.MaxUnsentBytes, "max-unsent", engine.DefaultMaxUnsentBytes, "unsent bytes per connection before Send blocks")
	fs.DurationVar(&cfg.HandshakeTimeout, "handshake-timeout", engine.DefaultHandshakeTimeout, "time allowed for a whole HTTP request")
	fs.DurationVar(&cfg.WriteTimeout, "write-timeout", engine.DefaultWriteTimeout, "how long Send waits for a peer that does not read")
	fs.DurationVar(&cfg.IdleTimeout, "idle-timeout", engine.DefaultIdleTimeout, "close WebSockets silent this long (ping at half); negative disables")
	fs.DurationVar(&cfg.CloseTimeout, "close-timeout", engine.DefaultCloseTimeout, "closing handshake timeout")
	grace := fs.Duration("shutdown-grace", 10*time.Second, "time given to closing handshakes on SIGINT/SIGTERM")
	if err := fs.Parse(args); err != nil {
		return cfg, 0, err
	}
	return cfg, *grace, nil
}

func run(cfg engine.Config, grace time.Duration) error {
	srv := engine.New(cfg)
	srv.HandleFunc("/echo", echo)
	srv.HandleFunc("/", page)
	if err := srv.Start(); err != nil {
		return err
	}
	fmt.Printf("volley listening on http://%s/ (echo at ws://%s/echo)\n", srv.Addr(), srv.Addr())

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	fmt.Println("volley: shutting down")
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	return srv.Shutdown(ctx)
}

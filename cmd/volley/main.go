// Command volley runs the volley WebSocket server with an echo service on
// /echo, chat rooms on /chat?room=NAME, the server's own numbers once a
// second on /stats and a demo page on / that uses all three.
// With -nats it joins a cluster: every node connected to the same NATS
// server relays its rooms' messages to the others, so members of a room on
// different nodes chat together.
//
//	go -C cmd/volley run .              # listens on 127.0.0.1:8080
//	go -C cmd/volley run . -addr :9000 -loops 2 -max-message 1048576
//	go -C cmd/volley run . -api event   # /echo and /chat on the event-loop API
//	go -C cmd/volley run . -addr 127.0.0.1:8081 -nats nats://127.0.0.1:4222
//	go -C cmd/volley run . -log-level debug -log-format json -access-log
//	go -C cmd/volley run . -admin 127.0.0.1:9090   # /metrics, /healthz, /readyz, /debug/pprof/
//
// It logs to stderr with log/slog (-log-level, -log-format; -access-log
// adds a record per handshake) and says where it listens on stdout.
//
// It shuts down gracefully (close 1001 to every WebSocket) on SIGINT or
// SIGTERM; with -admin, /readyz answers 503 from that moment, and the
// admin server stops after the WebSocket server.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/volley-ws/volley/engine"
	"github.com/volley-ws/volley/engine/natsbroker"
	"github.com/volley-ws/volley/internal/logattr"
)

func main() {
	opts, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if err := run(opts); err != nil {
		logger, _ := opts.log.loggers()
		logger.Error("volley: stopped", logattr.Err(err))
		os.Exit(1)
	}
}

// options is the parsed command line.
type options struct {
	cfg        engine.Config
	api        string // "blocking" or "event"
	natsURL    string // -nats: the cluster's NATS server; "" for one node
	grace      time.Duration
	cpuProfile string // write a CPU profile here until shutdown
	log        logOptions
	admin      string // -admin: the operations server's address; "" for none
}

// parseFlags turns the command line into options.
func parseFlags(args []string) (options, error) {
	fs := flag.NewFlagSet("volley", flag.ContinueOnError)
	var o options
	cfg := &o.cfg
	fs.StringVar(&cfg.Addr, "addr", engine.DefaultAddr, "listen address host:port")
	fs.IntVar(&cfg.EventLoops, "loops", 0, "event loops (0: one per CPU)")
	fs.Int64Var(&cfg.MaxMessageSize, "max-message", engine.DefaultMaxMessageSize, "largest message accepted, bytes (close 1009 above)")
	fs.IntVar(&cfg.MaxHandshakeBytes, "max-handshake", engine.DefaultMaxHandshakeBytes, "largest HTTP request head, bytes (431 above)")
	fs.IntVar(&cfg.MaxUnreadBytes, "max-unread", engine.DefaultMaxUnreadBytes, "received bytes held per WebSocket (queued for Receive, or unparsed while stalled) before it fails")
	fs.IntVar(&cfg.MaxUnsentBytes, "max-unsent", engine.DefaultMaxUnsentBytes, "unsent bytes per connection before Send blocks and input is no longer parsed")
	fs.Int64Var(&cfg.MaxBufferedBytes, "max-buffered", 0, "the server's memory budget: bytes all connections may hold together (0: a quarter of the memory available; negative: no budget)")
	fs.DurationVar(&cfg.HandshakeTimeout, "handshake-timeout", engine.DefaultHandshakeTimeout, "time allowed for a whole HTTP request")
	fs.DurationVar(&cfg.WriteTimeout, "write-timeout", engine.DefaultWriteTimeout, "how long a peer may leave max-unsent bytes unread before it is dropped")
	fs.DurationVar(&cfg.IdleTimeout, "idle-timeout", engine.DefaultIdleTimeout, "close WebSockets silent this long (ping at half); negative disables")
	fs.DurationVar(&cfg.CloseTimeout, "close-timeout", engine.DefaultCloseTimeout, "closing handshake timeout")
	fs.BoolVar(&cfg.Upgrade.Compression.Enabled, "deflate", true, "accept permessage-deflate (RFC 7692) when the client offers it")
	fs.BoolVar(&cfg.Upgrade.Compression.ContextTakeover, "deflate-context-takeover", false, "keep compression windows between messages (better ratio, about 64 KiB per connection)")
	fs.IntVar(&cfg.Upgrade.Compression.Level, "deflate-level", 1, "flate level, 1 (fastest) to 9 (smallest)")
	fs.DurationVar(&o.grace, "shutdown-grace", 10*time.Second, "time given to closing handshakes on SIGINT/SIGTERM")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile to this file until the server shuts down")
	fs.StringVar(&o.api, "api", "blocking", "how /echo and /chat are served: blocking (a goroutine per WebSocket, Send/Receive) or event (callbacks on the event loop)")
	o.log.register(fs)
	fs.StringVar(&o.admin, "admin", "", adminUsage)
	fs.StringVar(&o.natsURL, "nats", "", "join a cluster through the NATS server at this URL (nats://host:port): chat rooms span every node connected to it; empty: one node, in-process")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("volley: unexpected argument %q", fs.Arg(0))
	}
	if o.api != "blocking" && o.api != "event" {
		return o, fmt.Errorf("volley: -api must be blocking or event, not %q", o.api)
	}
	if err := o.log.check(); err != nil {
		return o, err
	}
	return o, nil
}

// newServer builds the server the options describe. With -nats it
// connects to the NATS server first, and the server's Shutdown closes that
// connection.
func newServer(o options) (*engine.Server, error) {
	cfg := o.cfg
	cfg.Logger, cfg.AccessLog = o.log.loggers()
	errs := &rateLog{log: cfg.Logger} // the chat's errors
	if o.natsURL != "" {
		// The broker logs its errors itself, at most one every 10 s.
		b, err := natsbroker.Connect(o.natsURL, natsbroker.Config{Logger: cfg.Logger})
		if err != nil {
			return nil, fmt.Errorf("volley: -nats: %w", err)
		}
		cfg.Broker = b
	}
	srv := engine.New(cfg)
	if o.api == "event" {
		srv.HandleEvents("/echo", echoEvents{})
		srv.HandleEvents("/chat", chatEvents{srv: srv, errs: errs})
	} else {
		srv.HandleFunc("/echo", echo)
		srv.HandleFunc("/chat", chat{srv: srv, errs: errs}.serve)
	}
	srv.HandleFunc("/stats", statsFeed{srv: srv}.serve)
	srv.HandleFunc("/", page)
	return srv, nil
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
	// Catch the signals before announcing the address, so a SIGTERM sent as
	// soon as the line is read still gets the graceful shutdown.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sig)
	srv, err := newServer(o)
	if err != nil {
		return err
	}
	adm, err := startAdmin(o.admin, srv)
	if err == nil {
		err = srv.Start()
	}
	if err != nil {
		adm.stop()
		if b := srv.Config().Broker; b != nil {
			b.Close() // Shutdown closes it, but there is no Shutdown without a start
		}
		return err
	}
	adm.setReady(true)
	// The lines on stdout are for people and scripts; the records on
	// stderr say the same for log collectors.
	fmt.Printf("volley listening on http://%s/ (echo at ws://%s/echo and chat at ws://%s/chat?room=NAME, %s API)\n", srv.Addr(), srv.Addr(), srv.Addr(), o.api)
	logger := srv.Config().Logger
	logger.Info("volley: listening", slog.String(logattr.KeyAddr, srv.Addr().String()), slog.String(logattr.KeyAPI, o.api),
		slog.Int64(logattr.KeyBudget, srv.Config().MaxBufferedBytes))
	if o.natsURL != "" {
		logger.Info("volley: in a cluster: chat rooms are shared through NATS", slog.String(logattr.KeyURL, o.natsURL))
	}
	if adm != nil {
		fmt.Printf("volley: admin on http://%s/ (/metrics, /healthz, /readyz, /debug/pprof/)\n", adm.Addr())
		logger.Info("volley: admin listening", slog.String(logattr.KeyAddr, adm.Addr().String()))
	}
	<-sig
	adm.setReady(false) // load balancers stop sending before the 1001s go out
	logger.Info("volley: shutting down")
	ctx, cancel := context.WithTimeout(context.Background(), o.grace)
	defer cancel()
	err = srv.Shutdown(ctx)
	return errors.Join(err, adm.stop())
}

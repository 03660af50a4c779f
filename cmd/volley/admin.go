package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/volley-ws/volley/engine"
	"github.com/volley-ws/volley/engine/prom"
)

// adminUsage is the -admin flag's help.
const adminUsage = "serve /metrics (Prometheus), /healthz, /readyz and /debug/pprof/ on this host:port, " +
	"a net/http server apart from the WebSocket one; empty: none. " +
	"pprof on a public port is a risk (it shows the program's memory and code, and profiling costs CPU): " +
	"keep it on loopback or a private network"

// adminStopTimeout bounds the admin server's own shutdown, after the
// WebSocket server's: requests still running then (a CPU profile) are cut.
const adminStopTimeout = 2 * time.Second

// admin is the operations server of -admin, a net/http server with its own
// listener and goroutines, never on the WebSocket server's event loops:
//
//	/metrics       the volley collector, Go's runtime and the process, for Prometheus
//	/healthz       200 while the process is up
//	/readyz        200 while the WebSocket server takes connections; 503
//	               before it starts and from the moment its shutdown begins
//	/debug/pprof/  net/http/pprof
//
// Its methods are for run's goroutine; the handlers run on net/http's.
type admin struct {
	hs     *http.Server
	ln     net.Listener
	ready  atomic.Bool
	served chan struct{} // closed when Serve returned
}

// startAdmin listens on addr and serves vs's operations endpoints, not
// ready until setReady(true). It returns nil, nil for an empty addr: -admin
// is off unless asked for.
func startAdmin(addr string, vs *engine.Server) (*admin, error) {
	if addr == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("volley: -admin: %w", err)
	}
	a := &admin{ln: ln, served: make(chan struct{})}
	a.hs = &http.Server{Handler: a.mux(vs), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		defer close(a.served)
		a.hs.Serve(ln) // http.ErrServerClosed after stop
	}()
	return a, nil
}

// mux routes the admin endpoints; /metrics gathers a registry of its own.
func (a *admin) mux(vs *engine.Server) *http.ServeMux {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		prom.NewCollector(vs),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !a.ready.Load() {
			http.Error(w, "not ready: starting or shutting down", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	// pprof's handlers on this mux, not http.DefaultServeMux, which no
	// server of this program serves.
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// Addr returns the address the admin server listens on.
func (a *admin) Addr() net.Addr { return a.ln.Addr() }

// setReady sets what /readyz answers: 200 when ready, 503 otherwise. A nil
// admin (no -admin) ignores it.
func (a *admin) setReady(ready bool) {
	if a != nil {
		a.ready.Store(ready)
	}
}

// stop shuts the admin server down: it lets requests in progress finish
// for at most adminStopTimeout, then closes their connections. A nil
// admin has nothing to stop.
func (a *admin) stop() error {
	if a == nil {
		return nil
	}
	a.ready.Store(false)
	ctx, cancel := context.WithTimeout(context.Background(), adminStopTimeout)
	defer cancel()
	err := a.hs.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		err = a.hs.Close()
	}
	<-a.served
	if err != nil {
		return fmt.Errorf("volley: -admin: %w", err)
	}
	return nil
}

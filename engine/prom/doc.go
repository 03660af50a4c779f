// Package prom exports a volley server's counters to Prometheus: a
// [Collector] reads [engine.Server.Stats] once per scrape and turns the
// snapshot into the volley_* metric families. It is a module of its own,
// so that a program that imports only volley's engine does not get
// prometheus/client_golang in its module graph.
//
// Register the collector on a registry of your own (no global state is
// touched) and serve that registry wherever the program serves its
// operations endpoints, never on the WebSocket server's event loops:
//
//	reg := prometheus.NewRegistry()
//	reg.MustRegister(prom.NewCollector(srv))
//	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
//
// The families, their labels and what they count are listed on
// [NewCollector].
package prom

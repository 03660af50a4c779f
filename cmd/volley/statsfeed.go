package main

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/volley-ws/volley/conn"
	"github.com/volley-ws/volley/engine"
	"github.com/volley-ws/volley/upgrade"
)

// statsEvery is how often /stats sends a report.
const statsEvery = time.Second

// statsFeed serves /stats with the blocking API, whatever -api says: each
// WebSocket gets a statsReport as JSON text when it opens and then every
// statsEvery, from one Server.Stats call each, until it closes. What the
// peer sends is dropped. A peer that does not read misses reports
// (TrySend) rather than holding the server's memory.
type statsFeed struct {
	srv *engine.Server
}

// serve runs one /stats WebSocket, on the goroutine the engine gives the
// handler.
func (f statsFeed) serve(ctx *upgrade.Context) {
	up := ctx.Upgrader()
	if up == nil {
		ctx.SetStatusCode(http.StatusBadRequest)
		ctx.WriteString("this is a WebSocket endpoint: the server's numbers, as JSON, once a second\n")
		return
	}
	ws, err := up.Upgrade()
	if err != nil {
		return
	}
	// Receive belongs to one goroutine: this one answers the peer's close.
	read := make(chan struct{})
	go func() {
		defer close(read)
		for {
			msg, err := ws.Receive()
			if err != nil {
				return
			}
			if msg.Type == conn.Close {
				ws.SendClose(msg.CloseStatus, "")
				return
			}
		}
	}()
	defer func() { <-read }()
	tick := time.NewTicker(statsEvery)
	defer tick.Stop()
	var prev *engine.Stats
	var then time.Time
	for {
		cur, now := f.srv.Stats(), time.Now()
		b, _ := json.Marshal(newStatsReport(cur, now, prev, then)) // numbers and strings only
		if err := ws.TrySend(conn.Text, b); err != nil && !errors.Is(err, conn.ErrSendQueueFull) {
			return
		}
		prev, then = &cur, now
		select {
		case <-tick.C:
		case <-read:
			return
		case <-ws.Done():
			return
		}
	}
}

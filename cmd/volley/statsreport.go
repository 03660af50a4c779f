package main

import (
	"cmp"
	"slices"
	"time"

	"github.com/volley-ws/volley/engine"
)

// statsReport is one message of /stats: the server's numbers now, and
// their rates per second since the previous report. The demo page draws
// them; its field names are the JSON's.
type statsReport struct {
	// Time is when the snapshot was taken, in Unix milliseconds.
	Time int64 `json:"t"`
	// Connections are the TCP connections open, WebSockets the WebSockets
	// open (all routes), Accepted the TCP connections taken since start.
	Connections int    `json:"connections"`
	WebSockets  int    `json:"websockets"`
	Accepted    uint64 `json:"accepted"`
	// MsgsIn and MsgsOut are the text and binary messages received and
	// sent per second, BytesIn and BytesOut their payload bytes per second.
	MsgsIn   float64 `json:"msgsIn"`
	MsgsOut  float64 `json:"msgsOut"`
	BytesIn  float64 `json:"bytesIn"`
	BytesOut float64 `json:"bytesOut"`
	// The totals since start of the same four.
	TotalMsgsIn   uint64 `json:"totalMsgsIn"`
	TotalMsgsOut  uint64 `json:"totalMsgsOut"`
	TotalBytesIn  uint64 `json:"totalBytesIn"`
	TotalBytesOut uint64 `json:"totalBytesOut"`
	// Closes count the close frames since start by code and side.
	Closes []closeCount `json:"closes"`
	// Topics and Subscriptions are now; Publishes and Deliveries per second.
	Topics        int     `json:"topics"`
	Subscriptions int     `json:"subscriptions"`
	Publishes     float64 `json:"publishes"`
	Deliveries    float64 `json:"deliveries"`
	// Buffered is the bytes all connections hold now.
	Buffered int64 `json:"buffered"`
}

// closeCount is the close frames with one code sent by one side: "server"
// or "client" (1006: the client went without one).
type closeCount struct {
	Code uint16 `json:"code"`
	By   string `json:"by"`
	N    uint64 `json:"n"`
}

// newStatsReport makes the report of cur, taken at now, with rates since
// prev, taken at then; with no prev (the first report) the rates are 0.
func newStatsReport(cur engine.Stats, now time.Time, prev *engine.Stats, then time.Time) statsReport {
	r := statsReport{
		Time:          now.UnixMilli(),
		Connections:   cur.Connections,
		Accepted:      cur.Accepted,
		TotalMsgsIn:   cur.Received.Text + cur.Received.Binary,
		TotalMsgsOut:  cur.Sent.Text + cur.Sent.Binary,
		TotalBytesIn:  cur.Received.Bytes,
		TotalBytesOut: cur.Sent.Bytes,
		Closes:        []closeCount{},
		Topics:        cur.Topics.Topics,
		Subscriptions: cur.Topics.Subscriptions,
		Buffered:      cur.Buffered,
	}
	for _, rs := range cur.Routes {
		r.WebSockets += rs.Open
	}
	for code, n := range cur.ClosesSent {
		r.Closes = append(r.Closes, closeCount{code, "server", n})
	}
	for code, n := range cur.ClosesReceived {
		r.Closes = append(r.Closes, closeCount{code, "client", n})
	}
	slices.SortFunc(r.Closes, func(a, b closeCount) int {
		return cmp.Or(cmp.Compare(a.Code, b.Code), cmp.Compare(b.By, a.By))
	})
	dt := now.Sub(then).Seconds()
	if prev == nil || dt <= 0 {
		return r
	}
	rate := func(now, before uint64) float64 {
		if now < before { // not a counter of the same server
			return 0
		}
		return float64(now-before) / dt
	}
	r.MsgsIn = rate(r.TotalMsgsIn, prev.Received.Text+prev.Received.Binary)
	r.MsgsOut = rate(r.TotalMsgsOut, prev.Sent.Text+prev.Sent.Binary)
	r.BytesIn = rate(r.TotalBytesIn, prev.Received.Bytes)
	r.BytesOut = rate(r.TotalBytesOut, prev.Sent.Bytes)
	r.Publishes = rate(cur.Topics.Publishes, prev.Topics.Publishes)
	r.Deliveries = rate(cur.Topics.Deliveries, prev.Topics.Deliveries)
	return r
}

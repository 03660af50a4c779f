package main

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/volley-ws/volley/engine"
)

// TestStatsReport: totals and levels come from the snapshot, rates are the
// differences with the previous one per second, and closes are listed by
// code then side, as the page reads them.
func TestStatsReport(t *testing.T) {
	then := time.Unix(1700000000, 0)
	prev := engine.Stats{
		Received: engine.MessageStats{Text: 10, Binary: 5, Bytes: 1000},
		Sent:     engine.MessageStats{Text: 20, Binary: 5, Bytes: 3000},
		Topics:   engine.TopicStats{Publishes: 4, Deliveries: 40},
	}
	cur := engine.Stats{
		Connections:    3,
		Accepted:       9,
		Routes:         map[string]engine.RouteStats{"/echo": {Open: 1}, "/chat": {Open: 2}, "/": {}},
		Received:       engine.MessageStats{Text: 30, Binary: 5, Ping: 7, Bytes: 5000},
		Sent:           engine.MessageStats{Text: 60, Binary: 5, Bytes: 9000},
		ClosesSent:     map[uint16]uint64{1001: 2, 1000: 1},
		ClosesReceived: map[uint16]uint64{1000: 1, 1006: 4},
		Buffered:       123,
		Topics:         engine.TopicStats{Topics: 1, Subscriptions: 2, Publishes: 8, Deliveries: 48},
	}
	now := then.Add(2 * time.Second)

	first := newStatsReport(cur, now, nil, time.Time{})
	if first.MsgsIn != 0 || first.BytesOut != 0 || first.TotalMsgsIn != 35 || first.WebSockets != 3 {
		t.Errorf("first report: %+v", first)
	}
	r := newStatsReport(cur, now, &prev, then)
	got, _ := json.Marshal(r)
	want := `{"t":1700000002000,"connections":3,"websockets":3,"accepted":9,` +
		`"msgsIn":10,"msgsOut":20,"bytesIn":2000,"bytesOut":3000,` +
		`"totalMsgsIn":35,"totalMsgsOut":65,"totalBytesIn":5000,"totalBytesOut":9000,` +
		`"closes":[{"code":1000,"by":"server","n":1},{"code":1000,"by":"client","n":1},{"code":1001,"by":"server","n":2},{"code":1006,"by":"client","n":4}],` +
		`"topics":1,"subscriptions":2,"publishes":2,"deliveries":4,"buffered":123}`
	if string(got) != want {
		t.Errorf("report:\n got %s\nwant %s", got, want)
	}
	if empty, _ := json.Marshal(newStatsReport(engine.Stats{}, now, nil, time.Time{})); !json.Valid(empty) {
		t.Errorf("empty report %s", empty)
	}
}

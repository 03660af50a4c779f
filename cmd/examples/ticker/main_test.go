package main

import (
	"context"
	"encoding/json"
	"net"
	"testing"
	"time"

	"github.com/volley-ws/volley/cmd/examples/internal/examplerun"
	"github.com/volley-ws/volley/internal/leakcheck"
	"github.com/volley-ws/volley/internal/wsclient"
)

// TestMain fails the run when a test leaves goroutines behind: a server
// run did not shut down, or a client nobody closed.
func TestMain(m *testing.M) { leakcheck.Main(m) }

// start runs the example on an ephemeral loopback port, with a tick every
// period, until the test ends, and returns its address.
func start(t *testing.T, every time.Duration) string {
	t.Helper()
	return examplerun.Start(t, func(ctx context.Context, addr string, ready func(net.Addr)) error {
		return run(ctx, addr, every, ready)
	})
}

// tick is the JSON of a tick.
type tick struct {
	Seq   int
	Price float64
	Ms    int64
}

// TestTicks: two subscribers receive the ticks in order, none missing, and
// the same tick alike.
func TestTicks(t *testing.T) {
	addr := start(t, 5*time.Millisecond)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	var subs [2]*wsclient.Conn
	for i := range subs {
		c, _, err := wsclient.Dial(ctx, "ws://"+addr+"/ticks", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
		subs[i] = c
	}
	var got [2]map[int]float64 // seq -> price
	for i, c := range subs {
		got[i] = make(map[int]float64)
		var prev tick
		for n := range 40 {
			typ, p, err := c.Receive(ctx)
			if err != nil || typ != wsclient.Text {
				t.Fatalf("receive: %v %q %v", typ, p, err)
			}
			var tk tick
			if err := json.Unmarshal(p, &tk); err != nil {
				t.Fatalf("tick %q: %v", p, err)
			}
			if n > 0 && (tk.Seq != prev.Seq+1 || tk.Ms < prev.Ms) {
				t.Fatalf("subscriber %d: %+v after %+v", i, tk, prev)
			}
			if tk.Price <= 0 {
				t.Fatalf("tick %q", p)
			}
			got[i][tk.Seq] = tk.Price
			prev = tk
		}
		if err := c.Close(1000, ""); err != nil {
			t.Error(err)
		}
	}
	common := 0
	for seq, price := range got[0] {
		if p, ok := got[1][seq]; ok {
			common++
			if p != price {
				t.Errorf("tick %d: price %v and %v", seq, price, p)
			}
		}
	}
	if common == 0 { // they subscribed less than a few ms apart
		t.Errorf("no tick received by both: %v and %v", got[0], got[1])
	}
}

package engine_test

import (
	"context"
	"fmt"
	"time"

	"github.com/volley-ws/volley/engine"
	"github.com/volley-ws/volley/internal/wsclient"
)

// A server's counters after a short conversation: one connection, two
// messages each way, a normal close. Stats is a snapshot: call it when a
// metrics scrape or a status page asks.
func ExampleServer_Stats() {
	srv := engine.New(engine.Config{Addr: "127.0.0.1:0"})
	srv.HandleEvents("/echo", exampleEcho{})
	if err := srv.Start(); err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Shutdown(context.Background())

	ctx := context.Background()
	c, _, err := wsclient.Dial(ctx, "ws://"+srv.Addr().String()+"/echo", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, msg := range []string{"hello", "world!"} {
		c.Send(wsclient.Text, []byte(msg))
		c.Receive(ctx)
	}
	c.Close(1000, "")

	// The loops count as they go: wait for them to see the end.
	st := srv.Stats()
	for deadline := time.Now().Add(5 * time.Second); st.Routes["/echo"].Open > 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
		st = srv.Stats()
	}
	fmt.Printf("accepted %d, upgraded %d, open %d\n", st.Accepted, st.Routes["/echo"].Upgraded, st.Routes["/echo"].Open)
	fmt.Printf("received %d text (%d bytes), sent %d text (%d bytes)\n", st.Received.Text, st.Received.Bytes, st.Sent.Text, st.Sent.Bytes)
	fmt.Println("closes received", st.ClosesReceived, "sent", st.ClosesSent)
	// Output:
	// accepted 1, upgraded 1, open 0
	// received 2 text (11 bytes), sent 2 text (11 bytes)
	// closes received map[1000:1] sent map[1000:1]
}

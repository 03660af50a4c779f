package engine_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/volley-ws/volley/engine"
	"github.com/volley-ws/volley/internal/wsclient"
)

// An application on net/http keeps its router and middleware: volley's
// server is mounted on /ws/ behind the application's authentication, and
// the WebSockets it accepts are served on volley's event loops.
func ExampleServer_ServeHTTP() {
	srv := engine.New(engine.Config{BridgeOnly: true}) // no listener of its own
	srv.HandleEvents("/ws/echo", exampleEcho{})
	if err := srv.Start(); err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Shutdown(context.Background())

	auth := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "Bearer secret" {
				http.Error(w, "unauthorized", http.StatusUnauthorized)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	mux := http.NewServeMux()
	mux.Handle("/ws/", auth(srv))
	app := httptest.NewServer(mux) // the application's own net/http server
	defer app.Close()
	url := "ws://" + strings.TrimPrefix(app.URL, "http://") + "/ws/echo"

	_, resp, err := wsclient.Dial(context.Background(), url, nil)
	fmt.Println(resp.StatusCode, err != nil)

	o := &wsclient.Options{Header: http.Header{"Authorization": {"Bearer secret"}}}
	c, _, err := wsclient.Dial(context.Background(), url, o)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.CloseNow()
	c.Send(wsclient.Text, []byte("hello through net/http"))
	_, reply, _ := c.Receive(context.Background())
	fmt.Println(string(reply))
	// Output:
	// 401 true
	// hello through net/http
}

package prom

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/volley-ws/volley/conn"
	"github.com/volley-ws/volley/engine"
	"github.com/volley-ws/volley/internal/servertest"
	"github.com/volley-ws/volley/internal/wsclient"
	"github.com/volley-ws/volley/upgrade"
)

// exporter is a volley server with echo routes, and a net/http server
// that serves its metrics the way a program would.
type exporter struct {
	*servertest.Server
	metrics string // the /metrics URL
	// release lets the handlers of /hold read their messages.
	release chan struct{}
}

// startExporter starts a server with a blocking echo on /echo, an event
// echo on /events whose connections subscribe to the topic "news", a
// blocking echo on /hold that reads nothing until e.release is closed, and
// the Collector on a registry served over HTTP; all end with the test.
func startExporter(t *testing.T) *exporter {
	t.Helper()
	e := &exporter{release: make(chan struct{})}
	e.Server = servertest.Start(t, engine.Config{}, func(s *engine.Server) {
		s.HandleFunc("/echo", blockingEcho)
		s.HandleEvents("/events", newsEcho{})
		s.HandleFunc("/hold", func(ctx *upgrade.Context) {
			if up := ctx.Upgrader(); up != nil {
				if ws, err := up.Upgrade(); err == nil {
					<-e.release
					echoLoop(ws)
				}
			}
		})
	})
	t.Cleanup(func() { // before the server's shutdown
		select {
		case <-e.release:
		default:
			close(e.release)
		}
	})
	reg := prometheus.NewRegistry()
	reg.MustRegister(NewCollector(e.Server.Server))
	hs := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	t.Cleanup(hs.Close)
	e.metrics = hs.URL + "/metrics"
	return e
}

// blockingEcho echoes text and binary messages and answers a close with
// the peer's code.
func blockingEcho(ctx *upgrade.Context) {
	up := ctx.Upgrader()
	if up == nil {
		ctx.SetStatusCode(http.StatusBadRequest)
		return
	}
	if ws, err := up.Upgrade(); err == nil {
		echoLoop(ws)
	}
}

// echoLoop is the loop of blockingEcho.
func echoLoop(ws conn.WebSocket) {
	for {
		msg, err := ws.Receive()
		if err != nil {
			return
		}
		if msg.Type == conn.Close {
			ws.SendClose(msg.CloseStatus, "")
			return
		}
		if ws.Send(msg.Type, msg.Data) != nil {
			return
		}
	}
}

// newsEcho is an event echo whose connections subscribe to "news".
type newsEcho struct{}

func (newsEcho) OnOpen(c *engine.Conn) {
	if c.Subscribe("news") != nil {
		c.Close(conn.StatusInternalError, "")
	}
}

func (newsEcho) OnMessage(c *engine.Conn, t conn.MessageType, p []byte) {
	if c.Send(t, p) != nil {
		c.Close(conn.StatusTryAgainLater, "")
	}
}

func (newsEcho) OnClose(*engine.Conn, error) {}

// scrape fetches and parses the exporter's metrics.
func (e *exporter) scrape(t *testing.T) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(e.metrics)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s", e.metrics, resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parsing the scrape: %v", err)
	}
	return fams
}

// value returns the value of the series of family name with the labels
// given as name=value pairs, and whether there is one.
func value(fams map[string]*dto.MetricFamily, name string, labels ...string) (float64, bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
next:
	for _, m := range f.GetMetric() {
		for _, l := range labels {
			k, v, _ := strings.Cut(l, "=")
			found := false
			for _, lp := range m.GetLabel() {
				if lp.GetName() == k && lp.GetValue() == v {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		}
	}
	return 0, false
}

// want is a series and the value it should have (at least, with atLeast).
type want struct {
	name    string
	labels  []string
	value   float64
	atLeast bool
}

func (w want) String() string {
	if len(w.labels) == 0 {
		return w.name
	}
	return w.name + "{" + strings.Join(w.labels, ",") + "}"
}

// expect scrapes until every series has its value (the engine counts some
// events a moment after the client saw them), and fails the test with what
// differs after servertest.Timeout.
func (e *exporter) expect(t *testing.T, wants ...want) {
	t.Helper()
	deadline := time.Now().Add(servertest.Timeout)
	for {
		fams := e.scrape(t)
		var bad []string
		for _, w := range wants {
			v, ok := value(fams, w.name, w.labels...)
			if !ok || v != w.value && !(w.atLeast && v > w.value) {
				got := "absent"
				if ok {
					got = fmt.Sprint(v)
				}
				op := ""
				if w.atLeast {
					op = "at least "
				}
				bad = append(bad, fmt.Sprintf("%v is %s, want %s%v", w, got, op, w.value))
			}
		}
		if len(bad) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v:\n  %s", servertest.Timeout, strings.Join(bad, "\n  "))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// dial opens a WebSocket to path on the exporter's server; it is closed
// when the test ends.
func (e *exporter) dial(t *testing.T, path string) *wsclient.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), servertest.Timeout)
	defer cancel()
	c, _, err := wsclient.Dial(ctx, "ws://"+e.Addr+path, nil)
	if err != nil {
		t.Fatalf("dialing %s: %v", path, err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return c
}

// echo sends a message of type typ and n bytes and checks its echo.
func echo(t *testing.T, c *wsclient.Conn, typ wsclient.MessageType, n int) {
	t.Helper()
	p := servertest.Payload(conn.MessageType(typ), n, int64(n))
	if err := c.Send(typ, p); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), servertest.Timeout)
	defer cancel()
	gt, got, err := c.Receive(ctx)
	if err != nil || gt != typ || string(got) != string(p) {
		t.Fatalf("echo of %d bytes: %v %d bytes, %v", n, gt, len(got), err)
	}
}

// closeWith closes c with code and waits for the server's answer.
func closeWith(t *testing.T, c *wsclient.Conn, code int) {
	t.Helper()
	if err := c.SendClose(code, ""); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), servertest.Timeout)
	defer cancel()
	if _, _, err := c.Receive(ctx); err == nil {
		t.Fatalf("a message after close %d", code)
	}
	c.CloseNow()
}

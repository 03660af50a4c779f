package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/volley-ws/volley/engine"
	"github.com/volley-ws/volley/internal/wsclient"
)

// panelState is what the page's live panel shows: the numbers as drawn
// (the elements' text) and the last report as received.
type panelState struct {
	Status   string
	Reports  int
	Conns    string
	WS       string
	Topics   string
	Subs     string
	MsgsIn   string
	MsgsOut  string
	BytesIn  string
	BytesOut string
	Closes   string
	Charted  bool // the connections chart has pixels drawn
	Last     *statsReport
}

// readPanel is the script that returns a panelState.
const readPanel = `(() => {
  const t = (id) => document.getElementById(id).textContent;
  const c = document.getElementById("ch-conns");
  let charted = false;
  if (c.width > 0 && c.height > 0) {
    const px = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    for (let i = 3; i < px.length; i += 4) if (px[i] !== 0) { charted = true; break; }
  }
  const s = window.volleyStats || {};
  return { status: t("st-status"), reports: s.reports || 0, conns: t("st-conns"), ws: t("st-ws"),
    topics: t("st-topics"), subs: t("st-subs"), msgsIn: t("st-msgs-in"), msgsOut: t("st-msgs-out"),
    bytesIn: t("st-bytes-in"), bytesOut: t("st-bytes-out"), closes: t("st-closes"), charted, last: s.last };
})()`

// TestPage loads the demo page in headless chromium against a running
// server, makes traffic (echoes and a chat room, from Go clients and from
// the page) and checks the live panel shows it: the connections, the
// page's room among the topics, a chart drawn. The subtest "counts
// traffic" checks the WebSockets open, the message and byte rates and the
// close codes, which need the engine to count them. A screenshot of the page is written to
// the test's artifact directory (go test -artifacts keeps it).
func TestPage(t *testing.T) {
	exe := requireChromium(t)
	srv := startServer(t)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	browser := startChromium(t, ctx, exe)
	tab, closeTab := chromedp.NewContext(browser)
	defer closeTab()
	page := "http://" + srv.Addr().String() + "/?room=lobby&nick=chromium"
	if err := chromedp.Do(tab, chromedp.Navigate(page)); err != nil {
		t.Fatalf("loading %s: %v", page, err)
	}
	defer screenshot(t, tab)

	stop := traffic(t, srv)
	defer stop()
	// The page echoes and chats too.
	if _, err := chromedp.Run(tab, chromedp.Evaluate[bool](`(async () => {
  const end = Date.now() + 10000;
  while (!(window.volley.ws.readyState === 1 && window.volleyChat.ws && window.volleyChat.ws.readyState === 1) && Date.now() < end)
    await new Promise((r) => setTimeout(r, 10));
  for (let i = 0; i < 20; i++) { window.volley.ws.send("from the page " + i); window.volleyChat.ws.send(JSON.stringify({ nick: "chromium", text: "hi " + i })); }
  return true;
})()`, chromedp.EvalAwaitPromise)); err != nil {
		t.Fatalf("sending from the page: %v", err)
	}

	// 1 page echo + 1 page chat + 1 page stats + 2 Go echoes + 1 Go chat.
	st := waitPanel(t, tab, "the connections, topics and a chart", func(p panelState) bool {
		return p.Status == "live" && p.Reports >= 2 && p.Charted && atLeast(p.Conns, 6) &&
			p.Topics == "1" && p.Subs == "2"
	})
	t.Logf("panel: %+v", st)

	t.Run("counts traffic", func(t *testing.T) {
		st := waitPanel(t, tab, "WebSockets, and messages and bytes per second in and out", func(p panelState) bool {
			return atLeast(p.WS, 6) && atLeast(p.MsgsIn, 1) && atLeast(p.MsgsOut, 1) && p.Last != nil && p.Last.BytesIn > 0 && p.Last.BytesOut > 0
		})
		t.Logf("panel: %+v", st)
		stop() // the Go clients close with 1000
		waitPanel(t, tab, "the close codes", func(p panelState) bool {
			return strings.Contains(p.Closes, "1000 server") && strings.Contains(p.Closes, "1000 client")
		})
	})
}

// atLeast reports whether the panel's number text (as the page writes
// it: 12, 3.4k) is at least n.
func atLeast(text string, n float64) bool {
	mult := 1.0
	for suffix, m := range map[string]float64{"k": 1e3, "M": 1e6, "G": 1e9} {
		if s, ok := strings.CutSuffix(text, suffix); ok {
			text, mult = s, m
		}
	}
	v, err := strconv.ParseFloat(text, 64)
	return err == nil && v*mult >= n
}

// waitPanel reads the panel until ok accepts it, and fails the test with
// the last state after 10 s.
func waitPanel(t *testing.T, tab context.Context, what string, ok func(panelState) bool) panelState {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		p, err := chromedp.Run(tab, chromedp.Evaluate[panelState](readPanel))
		if err != nil {
			t.Fatalf("reading the panel: %v", err)
		}
		if ok(p) {
			return p
		}
		if time.Now().After(deadline) {
			last := "none"
			if p.Last != nil {
				last = strconv.Quote(strings.TrimSpace(strconv.FormatUint(p.Last.TotalMsgsIn, 10) + " messages in"))
			}
			t.Fatalf("the panel does not show %s after 10 s: %+v (last report: %s)", what, p, last)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// traffic runs two echo clients and a member of the room "lobby" that
// each send a message every 20 ms until stop, which closes them with 1000
// and waits for them.
func traffic(t *testing.T, srv *engine.Server) (stop func()) {
	t.Helper()
	done := make(chan struct{})
	var wg sync.WaitGroup
	for _, path := range []string{"/echo", "/echo", "/chat?room=lobby"} {
		c := dialWS(t, srv, path)
		wg.Add(2)
		go func() { // reads what comes back until the close
			defer wg.Done()
			for {
				if _, _, err := c.Receive(context.Background()); err != nil {
					return
				}
			}
		}()
		go func() {
			defer wg.Done()
			tick := time.NewTicker(20 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-done:
					c.SendClose(1000, "")
					return
				case <-tick.C:
					if c.Send(wsclient.Text, []byte(`{"nick":"go","text":"tick"}`)) != nil {
						return
					}
				}
			}
		}()
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			close(done)
			wg.Wait()
		})
	}
}

// screenshot writes a PNG of the page to the test's artifact directory.
func screenshot(t *testing.T, tab context.Context) {
	t.Helper()
	png, err := chromedp.Run(tab, chromedp.FullScreenshot(100))
	if err != nil {
		t.Errorf("screenshot: %v", err)
		return
	}
	path := filepath.Join(t.ArtifactDir(), "page.png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Errorf("screenshot: %v", err)
		return
	}
	t.Logf("screenshot: %s", path)
}

package interop

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/volley-ws/volley/internal/browserproc"
)

// chromiumPath is Debian's chromium (apt-get install chromium).
const chromiumPath = "/usr/bin/chromium"

// browserExchange is the script run in the demo page once its WebSocket is
// open. It sends text and binary messages of many sizes through the page's
// WebSocket (window.volley.ws), one at a time and then 100 in a row, waits
// for each echo in window.volley.received (the page's onmessage pushes
// e.data there) and compares it in JavaScript with what was sent. It
// returns what it saw; errors lists every echo that differs. It gives up
// after 20 s. The page's own log stays visible: it keeps short lines, so
// large messages must not slow it down.
const browserExchange = `(async () => {
  const v = window.volley, ws = v.ws;
  ws.binaryType = "arraybuffer";
  const deadline = Date.now() + 20000;
  const out = { title: document.title, url: ws.url, extensions: ws.extensions, errors: [], sent: 0, text: 0, binary: 0, bytes: 0 };
  const fail = (s) => { if (out.errors.length < 20) out.errors.push(s); };
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const utf8 = new TextEncoder();

  const random = (n) => {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i += 65536) crypto.getRandomValues(b.subarray(i, Math.min(n, i + 65536)));
    return b;
  };
  const json = (n) => {
    let s = "";
    for (let i = 0; s.length < n; i++) {
      s += JSON.stringify({ id: i, user: "user-" + (i % 17), kind: "chat", text: "the quick brown fox jumps over the lazy dog", ts: 1700000000 + i }) + "\n";
    }
    return s.slice(0, n);
  };
  const nonASCII = (n) => {
    const unit = "héllo wörld ✓ 日本語 🎉 ";
    return unit.repeat(Math.max(1, Math.ceil(n / utf8.encode(unit).length)));
  };
  const compressible = (n) => {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = (i % 64) < 48 ? 0 : i & 0xff;
    return b;
  };
  const describe = (x) => typeof x === "string" ? "text of " + utf8.encode(x).length + " bytes"
    : x instanceof ArrayBuffer ? "binary of " + x.byteLength + " bytes" : String(x);
  const same = (got, want) => {
    if (typeof want === "string") return typeof got === "string" && got === want;
    if (!(got instanceof ArrayBuffer) || got.byteLength !== want.length) return false;
    const g = new Uint8Array(got);
    for (let i = 0; i < g.length; i++) if (g[i] !== want[i]) return false;
    return true;
  };
  let next = v.received.length;
  const send = (m) => {
    ws.send(m.data);
    out.sent++;
    if (typeof m.data === "string") { out.text++; out.bytes += utf8.encode(m.data).length; }
    else { out.binary++; out.bytes += m.data.length; }
  };
  const check = async (m) => {
    const end = Math.min(Date.now() + 10000, deadline);
    while (v.received.length <= next) {
      if (v.closed) throw new Error("closed (" + v.closed.code + " " + v.closed.reason + ") while waiting for the echo of " + m.what);
      if (Date.now() > end) throw new Error("no echo of " + m.what + " in time");
      await sleep(2);
    }
    const got = v.received[next++];
    if (!same(got, m.data)) fail(m.what + ": echo differs: got " + describe(got) + ", want " + describe(m.data));
  };

  const list = [];
  for (const n of [0, 1, 125, 126, 127, 1000, 65535, 65536, 200000]) {
    list.push({ what: n + " B JSON-like text", data: json(n) });
    list.push({ what: n + " B random binary", data: random(n) });
  }
  for (const n of [1, 1000, 65536, 200000]) {
    list.push({ what: "~" + n + " B non-ASCII text", data: nonASCII(n) });
    list.push({ what: n + " B compressible binary", data: compressible(n) });
  }
  try {
    for (const m of list) { send(m); await check(m); }
    const burst = [];
    for (let i = 0; i < 100; i++) {
      const n = 16 << (i % 12);
      burst.push(i % 3 === 2 ? { what: "burst " + i + ": " + n + " B random binary", data: random(n) }
        : { what: "burst " + i + ": " + n + " B JSON-like text", data: json(n) });
    }
    for (const m of burst) send(m);
    for (const m of burst) await check(m);
  } catch (e) {
    fail(String(e));
  }
  return out;
})()`

// browserClose closes the page's WebSocket with 4000 and a reason, and
// returns what the page saw (window.volley.closed) and the close event's
// wasClean.
const browserClose = `(async () => {
  const v = window.volley, ws = v.ws;
  let clean = null;
  ws.addEventListener("close", (e) => { clean = e.wasClean; });
  ws.close(4000, "bye from chromium");
  const end = Date.now() + 10000;
  while ((!v.closed || clean === null) && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
  return { closed: v.closed, wasClean: clean };
})()`

type browserResult struct {
	Title, URL, Extensions string
	Errors                 []string
	Sent, Text, Binary     int
	Bytes                  int64
}

type browserCloseResult struct {
	Closed *struct {
		Code   int
		Reason string
	}
	WasClean *bool
}

// TestBrowser drives headless Debian chromium against the server: it loads
// cmd/volley's demo page (page.html, served on /), whose WebSocket goes to a
// recording echo on /echo, checks permessage-deflate was negotiated, sends
// text and binary messages of 0 B to 200 KB from the page and checks every
// echo, then closes with 4000 and a reason, which the server must receive
// and answer. Both the blocking and the event API serve /echo, with
// compression enabled.
func TestBrowser(t *testing.T) {
	exe := requireProgram(t, chromiumPath, "chromium", "chromium")
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	browser := startChromium(t, ctx, exe)
	t.Logf("chromium started in %v", time.Since(start).Round(time.Millisecond))

	for _, so := range []serverOptions{
		{api: "blocking", compression: true},
		{api: "event", compression: true},
	} {
		t.Run(so.String(), func(t *testing.T) {
			srv := startEchoServer(t, so)
			runBrowserPage(t, browser, srv)
		})
	}
}

// runBrowserPage runs the exchange in a new tab of browser against srv.
func runBrowserPage(t *testing.T, browser context.Context, srv *echoServer) {
	start := time.Now()
	tab, closeTab := chromedp.NewContext(browser)
	var console consoleLog
	defer func() {
		closeTab()
		console.wait()
		if t.Failed() {
			console.dump(t)
		}
	}()
	console.follow(tab)

	page := "http://" + srv.addr() + "/"
	if err := chromedp.Do(tab, chromedp.Navigate(page)); err != nil {
		t.Fatalf("loading %s: %v", page, err)
	}
	state, err := chromedp.Run(tab, chromedp.Evaluate[int](`(async () => {
  const end = Date.now() + 10000;
  while (!(window.volley && window.volley.ws.readyState !== WebSocket.CONNECTING) && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 5));
  }
  return window.volley ? window.volley.ws.readyState : -1;
})()`, chromedp.EvalAwaitPromise))
	if err != nil || state != 1 {
		t.Fatalf("the page's WebSocket readyState is %d (%v), want 1 (OPEN)", state, err)
	}

	evalCtx, cancelEval := context.WithTimeout(tab, 25*time.Second)
	defer cancelEval()
	res, err := chromedp.Run(evalCtx, chromedp.Evaluate[browserResult](browserExchange, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("exchange script: %v", err)
	}
	if res.Title != srv.pageTitle || res.URL != "ws://"+srv.addr()+"/echo" {
		t.Errorf("page %q with WebSocket to %q: not the demo page's", res.Title, res.URL)
	}
	if !hasDeflate(res.Extensions) {
		t.Errorf("chromium's ws.extensions is %q, want permessage-deflate%s", res.Extensions, noCompressionYet)
	}
	for _, e := range res.Errors {
		t.Errorf("in chromium: %s", e)
	}
	t.Logf("chromium sent %d messages (%d text, %d binary, %d bytes) and checked their echoes in %v",
		res.Sent, res.Text, res.Binary, res.Bytes, time.Since(start).Round(time.Millisecond))

	cl, err := chromedp.Run(evalCtx, chromedp.Evaluate[browserCloseResult](browserClose, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("close script: %v", err)
	}
	rec := srv.nextRecord(t, "", 10*time.Second)
	if !hasDeflate(rec.Offer) {
		t.Errorf("chromium offered Sec-WebSocket-Extensions %q, want permessage-deflate", rec.Offer)
	}
	if rec.Origin != "http://"+srv.addr() {
		t.Errorf("handshake Origin %q, want the page's http://%s", rec.Origin, srv.addr())
	}
	if rec.Text != res.Text || rec.Binary != res.Binary || rec.Bytes != res.Bytes {
		t.Errorf("the server received %d text + %d binary messages of %d bytes in all, chromium sent %d + %d of %d bytes",
			rec.Text, rec.Binary, rec.Bytes, res.Text, res.Binary, res.Bytes)
	}
	srv.checkClose(t, rec, 4000, "bye from chromium")
	if cl.Closed == nil || cl.Closed.Code != 4000 || cl.Closed.Reason != srv.echoReason("bye from chromium") {
		t.Errorf("the page saw close %+v, want code 4000 reason %q", cl.Closed, srv.echoReason("bye from chromium"))
	}
	if cl.WasClean == nil || !*cl.WasClean {
		t.Errorf("the page's close event: wasClean %v, want true", cl.WasClean)
	}
}

// startChromium starts headless chromium with a fresh profile in a temporary
// directory, bounded by ctx. It is stopped (and every process of it killed)
// when the test ends.
func startChromium(t *testing.T, ctx context.Context, exe string) context.Context {
	t.Helper()
	// Removed after the browser is gone: cleanups run last first.
	profile := t.TempDir()
	// chromium leaves a directory for its singleton socket in $TMPDIR, crash
	// report settings in $XDG_CONFIG_HOME and dconf's in $XDG_CACHE_HOME:
	// all in the test's own directory.
	tmp := t.TempDir()
	var output lockedBuffer
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(exe),
		chromedp.Env("TMPDIR="+tmp, "XDG_CONFIG_HOME="+tmp, "XDG_CACHE_HOME="+tmp),
		chromedp.UserDataDir(profile),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.CombinedOutput(&output),
	)
	browser, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(func() {
		closeCtx, cancel := context.WithTimeout(browser, 10*time.Second)
		defer cancel()
		// A graceful close first; cancelling the allocator then kills what
		// is left of the process it started and waits for it.
		if err := chromedp.Cancel(closeCtx); err != nil && ctx.Err() == nil {
			t.Logf("closing chromium: %v", err)
		}
		cancelBrowser()
		cancelAlloc()
		if n := browserproc.KillProfile(profile); n > 0 {
			t.Logf("killed %d chromium process(es) left over with profile %s", n, profile)
		}
		if t.Failed() {
			t.Logf("chromium output (without its D-Bus complaints):\n%s", withoutDBus(output.String()))
		}
	})
	if err := chromedp.Do(browser); err != nil {
		t.Fatalf("starting %s: %v\noutput:\n%s", exe, err, withoutDBus(output.String()))
	}
	return browser
}

// withoutDBus drops the lines chromium logs because the machine has no
// D-Bus, which are many and say nothing about the test.
func withoutDBus(s string) string {
	var b strings.Builder
	for _, line := range strings.SplitAfter(s, "\n") {
		if !strings.Contains(line, ":ERROR:dbus/") {
			b.WriteString(line)
		}
	}
	return b.String()
}

// consoleLog collects a tab's console messages and uncaught exceptions.
type consoleLog struct {
	mu    sync.Mutex
	lines []string
	done  chan struct{}
}

// follow collects tab's console until tab is cancelled.
func (c *consoleLog) follow(tab context.Context) {
	c.done = make(chan struct{})
	messages := chromedp.Console(tab)
	go func() {
		defer close(c.done)
		for m, err := range messages {
			if err != nil {
				return
			}
			c.mu.Lock()
			if len(c.lines) < 50 {
				c.lines = append(c.lines, m.String())
			}
			c.mu.Unlock()
		}
	}()
}

// wait waits for the collecting goroutine to end (after the tab's cancel).
func (c *consoleLog) wait() {
	if c.done != nil {
		<-c.done
	}
}

func (c *consoleLog) dump(t *testing.T) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.lines) > 0 {
		t.Logf("page console:\n  %s", strings.Join(c.lines, "\n  "))
	}
}

// lockedBuffer is a strings.Builder safe for the writer goroutine chromedp
// copies the browser's output with.
type lockedBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len() < 64<<10 {
		b.buf.Write(p)
	}
	return len(p), nil
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

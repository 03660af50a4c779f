package main

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/volley-ws/volley/internal/browserproc"
)

// chromiumPath is Debian's chromium (apt-get install chromium).
const chromiumPath = "/usr/bin/chromium"

// requireChromium returns chromium's path, and fails the test when it is
// missing (skips it with -short).
func requireChromium(t *testing.T) string {
	t.Helper()
	if fi, err := os.Stat(chromiumPath); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
		return chromiumPath
	}
	msg := "chromium not found at " + chromiumPath + ": apt-get install chromium, or make deps"
	if testing.Short() {
		t.Skip(msg)
	}
	t.Fatal(msg)
	return ""
}

// startChromium starts headless chromium with a fresh profile in a
// temporary directory, bounded by ctx; it is stopped, and every process of
// it killed by PID, when the test ends.
func startChromium(t *testing.T, ctx context.Context, exe string) context.Context {
	t.Helper()
	profile, tmp := t.TempDir(), t.TempDir()
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(exe),
		chromedp.Env("TMPDIR="+tmp, "XDG_CONFIG_HOME="+tmp, "XDG_CACHE_HOME="+tmp),
		chromedp.UserDataDir(profile),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.WindowSize(1100, 900),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
	)
	browser, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(func() {
		closeCtx, cancel := context.WithTimeout(browser, 10*time.Second)
		defer cancel()
		chromedp.Cancel(closeCtx)
		cancelBrowser()
		cancelAlloc()
		browserproc.KillProfile(profile)
	})
	if err := chromedp.Do(browser); err != nil {
		t.Fatalf("starting %s: %v", exe, err)
	}
	return browser
}

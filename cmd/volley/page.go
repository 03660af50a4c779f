package main

import (
	_ "embed"
	"net/http"

	"github.com/volley-ws/volley/upgrade"
)

//go:embed page.html
var pageHTML []byte

// page serves the demo page: a live panel of the server's numbers (from
// /stats, drawn on canvases by the page itself: it loads nothing from
// elsewhere), the echo of /echo and the chat rooms of /chat.
func page(ctx *upgrade.Context) {
	if ctx.Method() != http.MethodGet && ctx.Method() != http.MethodHead {
		ctx.SetStatusCode(http.StatusMethodNotAllowed)
		ctx.SetHeader("Allow", "GET, HEAD")
		return
	}
	ctx.SetHeader("Content-Type", "text/html; charset=utf-8")
	ctx.SetHeader("Cache-Control", "no-store")
	ctx.Write(pageHTML)
}

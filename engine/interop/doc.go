// Package interop holds volley's interoperability tests, in a module of
// their own so that the volley module requires only what the library runs
// on. It has no code besides its tests, which drive the server (packages
// engine, conn and upgrade, through their public API only) with:
//
//   - other Go WebSocket libraries: gorilla/websocket, gobwas/ws and
//     coder/websocket (libraries_test.go: messages of every header size,
//     fragments, pings, closes from either side, concurrent clients;
//     deflate_test.go: permessage-deflate with and without context
//     takeover);
//   - headless Chromium loading cmd/volley's demo page, through chromedp
//     (browser_test.go);
//   - Node.js and its ws package (node_test.go, which runs
//     testdata/node/client.mjs);
//   - an nginx reverse proxy terminating TLS in front of the server, with
//     the configuration of the repository's README.md (nginx_test.go).
//
// go.mod replaces github.com/volley-ws/volley with the parent directory, so
// the tests run against the checkout they are in. make test (the
// repository's .ci/test.sh) runs go vet, staticcheck and the tests
// under the race detector here after the volley module's own stages; by
// hand:
//
//	cd interop && go vet ./... && go test -race ./...
//
// The real-client tests need /usr/bin/chromium, /usr/sbin/nginx, node, and
// the ws package installed in testdata/node/node_modules (npm ci there):
// make deps (.ci/deps.sh) installs them on Debian. Without them those
// tests fail saying what to install; go test -short skips them instead.
package interop

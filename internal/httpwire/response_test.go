package httpwire

import (
	"net/http"
	"testing"

	"github.com/volley-ws/volley/upgrade"
)

func TestAppendResponse(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		header    []upgrade.HeaderField
		body      string
		keepAlive bool
		head      bool
		want      string
	}{
		{"426 close", http.StatusUpgradeRequired, upgrade.ErrBadVersion.Header, "unsupported version", false, false,
			"HTTP/1.1 426 Upgrade Required\r\n" +
				"Sec-WebSocket-Version: 13\r\n" +
				"Content-Length: 19\r\n" +
				"Connection: close\r\n" +
				"\r\n" +
				"unsupported version"},
		{"200 keep-alive", 200, []upgrade.HeaderField{{Name: "Content-Type", Value: "text/plain; charset=utf-8"}}, "ok\n", true, false,
			"HTTP/1.1 200 OK\r\n" +
				"Content-Type: text/plain; charset=utf-8\r\n" +
				"Content-Length: 3\r\n" +
				"\r\n" +
				"ok\n"},
		{"HEAD", 405, []upgrade.HeaderField{{Name: "Allow", Value: "GET"}}, "no", true, true,
			"HTTP/1.1 405 Method Not Allowed\r\n" +
				"Allow: GET\r\n" +
				"Content-Length: 2\r\n" +
				"\r\n"},
		{"empty body", 400, nil, "", false, false,
			"HTTP/1.1 400 Bad Request\r\n" +
				"Content-Length: 0\r\n" +
				"Connection: close\r\n" +
				"\r\n"},
		{"204", 204, nil, "ignored", true, false,
			"HTTP/1.1 204 No Content\r\n" +
				"\r\n"},
		{"304", 304, nil, "ignored", true, false,
			"HTTP/1.1 304 Not Modified\r\n" +
				"Content-Length: 7\r\n" +
				"\r\n"},
		{"unknown status", 599, nil, "x", true, false,
			"HTTP/1.1 599 \r\n" +
				"Content-Length: 1\r\n" +
				"\r\n" +
				"x"},
		{"invalid status", 42, nil, "x", true, false,
			"HTTP/1.1 500 Internal Server Error\r\n" +
				"Content-Length: 1\r\n" +
				"\r\n" +
				"x"},
		{"injection", 400, []upgrade.HeaderField{{Name: "X", Value: "a\r\nSet-Cookie: x"}}, "", true, false,
			"HTTP/1.1 400 Bad Request\r\n" +
				"X: a  Set-Cookie: x\r\n" +
				"Content-Length: 0\r\n" +
				"\r\n"},
	}
	for _, tt := range tests {
		got := AppendResponse([]byte("prev"), tt.status, tt.header, []byte(tt.body), tt.keepAlive, tt.head)
		if string(got) != "prev"+tt.want {
			t.Errorf("%s:\ngot  %q\nwant %q", tt.name, got, "prev"+tt.want)
		}
	}
}

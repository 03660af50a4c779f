package httpwire

import (
	"net/http"
	"strconv"

	"github.com/volley-ws/volley/upgrade"
)

// AppendResponse appends a complete simple HTTP/1.1 response to dst and
// returns the extended slice: the status line with the standard reason phrase
// from net/http.StatusText (empty for unknown codes; a status outside
// 100..999 is sent as 500), the fields of header, "Content-Length:
// len(body)", "Connection: close" when !keepAlive, the blank line, and body
// unless head is true (answer to a HEAD request). As RFC 9110 requires, a 1xx
// or 204 response gets neither Content-Length nor body, and a 304 response
// no body. Names and values are sanitized as by AppendField.
func AppendResponse(dst []byte, status int, header []upgrade.HeaderField, body []byte, keepAlive, head bool) []byte {
	if status < 100 || status > 999 {
		status = http.StatusInternalServerError
	}
	dst = append(dst, "HTTP/1.1 "...)
	dst = strconv.AppendInt(dst, int64(status), 10)
	dst = append(dst, ' ')
	dst = append(dst, http.StatusText(status)...)
	dst = append(dst, "\r\n"...)
	for _, f := range header {
		dst = AppendField(dst, f.Name, f.Value)
	}
	noContent := status < 200 || status == http.StatusNoContent
	if !noContent {
		dst = append(dst, "Content-Length: "...)
		dst = strconv.AppendInt(dst, int64(len(body)), 10)
		dst = append(dst, "\r\n"...)
	}
	if !keepAlive {
		dst = append(dst, "Connection: close\r\n"...)
	}
	dst = append(dst, "\r\n"...)
	if !head && !noContent && status != http.StatusNotModified {
		dst = append(dst, body...)
	}
	return dst
}

// AppendField appends "name: value\r\n", writing control characters other
// than HT as spaces, so that no name or value can inject a header line.
func AppendField(dst []byte, name, value string) []byte {
	dst = appendSanitized(dst, name)
	dst = append(dst, ": "...)
	dst = appendSanitized(dst, value)
	return append(dst, "\r\n"...)
}

// appendSanitized appends s with every control character other than HT
// replaced by a space.
func appendSanitized(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < ' ' && c != '\t') || c == 0x7f {
			dst = append(dst, s[:i]...)
			for ; i < len(s); i++ {
				if c := s[i]; (c < ' ' && c != '\t') || c == 0x7f {
					dst = append(dst, ' ')
				} else {
					dst = append(dst, c)
				}
			}
			return dst
		}
	}
	return append(dst, s...)
}

package httpwire

import "github.com/volley-ws/volley/upgrade"

// ParseRequest parses one request head from b, as Parse does, into a new
// Request that owns its memory (a Clone of the in-place parse).
func ParseRequest(b []byte, maxHead int) (*upgrade.Request, int, error) {
	var r upgrade.Request
	n, err := Parse(&r, b, maxHead)
	if n == 0 {
		return nil, 0, err
	}
	return r.Clone(), n, nil
}

// ParseRequestNoCopy is Parse, under the name the tests grew up with.
func ParseRequestNoCopy(r *upgrade.Request, b []byte, maxHead int) (int, error) {
	return Parse(r, b, maxHead)
}

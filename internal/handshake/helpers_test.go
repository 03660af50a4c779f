package handshake

import (
	"github.com/volley-ws/volley/internal/httpwire"
	"github.com/volley-ws/volley/upgrade"
)

const maxHeadTest = 4096

// ParseRequest parses one request head from b into a new Request that owns
// its memory.
func ParseRequest(b []byte, maxHead int) (*upgrade.Request, int, error) {
	var r upgrade.Request
	n, err := httpwire.Parse(&r, b, maxHead)
	if n == 0 {
		return nil, 0, err
	}
	return r.Clone(), n, nil
}

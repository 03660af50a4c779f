package engine

import (
	"math"
	"strings"
	"testing"
)

// TestConfigMaxHandshakeBytes: a request head's length is kept in 32 bits
// (upgrade.Context), so a larger limit is a configuration error.
func TestConfigMaxHandshakeBytes(t *testing.T) {
	if math.MaxInt == math.MaxInt32 {
		t.Skip("int is 32 bits: no larger limit can be set")
	}
	over := int64(math.MaxInt32) + 1
	c := Config{MaxHandshakeBytes: int(over)}
	if _, err := c.withDefaults(); err == nil || !strings.Contains(err.Error(), "MaxHandshakeBytes") {
		t.Errorf("MaxHandshakeBytes past 2 GiB: err = %v", err)
	}
	ok := Config{MaxHandshakeBytes: math.MaxInt32}
	if _, err := ok.withDefaults(); err != nil {
		t.Errorf("MaxHandshakeBytes of 2 GiB - 1: %v", err)
	}
}

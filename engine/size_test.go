package engine

import (
	"testing"
	"unsafe"
)

// TestConnectionSize holds the per-connection state at one 128-byte
// allocation (a size class of Go's allocator): both APIs keep an idle
// connection in it, and the event API's Conn is the same object. A field
// added past 128 bytes moves every connection to the 144-byte class; what
// only some connections need at a time belongs in a side table (see
// sideTable) or in the pooled message state.
func TestConnectionSize(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("sizes are for 64-bit platforms")
	}
	if got := unsafe.Sizeof(connection{}); got != 128 {
		t.Errorf("connection is %d bytes, want 128", got)
	}
	if got := unsafe.Sizeof(Conn{}); got != unsafe.Sizeof(connection{}) {
		t.Errorf("Conn is %d bytes, want the connection's", got)
	}
}

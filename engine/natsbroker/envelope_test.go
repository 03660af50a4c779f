package natsbroker

import (
	"bytes"
	"testing"

	"github.com/volley-ws/volley/conn"
)

// TestEnvelope: what putEnvelope writes parseEnvelope reads back, in the
// documented layout; anything else is refused.
func TestEnvelope(t *testing.T) {
	b := make([]byte, envelopeLen+3)
	copy(b[envelopeLen:], "abc")
	putEnvelope(b, conn.Binary, 0x0102030405060708, 0x1112131415161718)
	want := []byte{0x12, 1, 2, 3, 4, 5, 6, 7, 8, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 'a', 'b', 'c'}
	if !bytes.Equal(b, want) {
		t.Fatalf("envelope % x, want % x", b, want)
	}
	typ, origin, seq, data, ok := parseEnvelope(b)
	if !ok || typ != conn.Binary || origin != 0x0102030405060708 || seq != 0x1112131415161718 || string(data) != "abc" {
		t.Fatalf("parseEnvelope = %v %x %x %q %v", typ, origin, seq, data, ok)
	}
	putEnvelope(b, conn.Text, 1, 1)
	if typ, _, _, _, ok := parseEnvelope(b[:envelopeLen]); !ok || typ != conn.Text || b[0] != 0x11 {
		t.Fatalf("text envelope: %v %v (byte 0 %#x)", typ, ok, b[0])
	}

	for name, p := range map[string][]byte{
		"short":      make([]byte, envelopeLen-1),
		"version 0":  append([]byte{0x01}, make([]byte, 16)...),
		"version 2":  {0x21, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1},
		"type 0":     {0x10, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1},
		"type close": {0x13, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1},
		"sequence 0": {0x11, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0},
	} {
		if _, _, _, _, ok := parseEnvelope(p); ok {
			t.Errorf("%s: parseEnvelope(% x) accepted it", name, p)
		}
	}
}

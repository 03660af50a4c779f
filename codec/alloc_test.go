package codec

import (
	"strings"
	"testing"
)

func TestNoAllocs(t *testing.T) {
	frame := cat([]byte{0x82, 0xff, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00}, testKey[:])
	bad := []byte{0x82, 0x7e, 0x00, 0x05}
	h := Header{Fin: true, OpCode: OpBinary, Masked: true, Mask: testKey, Length: 70000}
	payload := make([]byte, 4096)
	text := []byte(strings.Repeat("plain ascii, then ünïcödé € 😀 ", 64))
	closeOK := []byte("\x03\xe8normal closure, thank you ✓")
	closeBad := []byte("\x03\xe8\xff")
	reason := strings.Repeat("r", 200)
	var hdr [MaxHeaderSize]byte
	out := make([]byte, 0, 256)

	var (
		gotH   Header
		gotW   WireHeader
		gotN   int
		gotErr error
		gotOK  bool
		gotOut []byte
	)
	tests := []struct {
		name string
		f    func()
	}{
		{
			name: "ParseHeader",
			f:    func() { gotH, gotN, gotErr = ParseHeader(frame) },
		},
		{
			name: "ParseHeader error",
			f:    func() { gotH, gotN, gotErr = ParseHeader(bad) },
		},
		{
			name: "ParseHeader need more",
			f:    func() { gotH, gotN, gotErr = ParseHeader(frame[:5]) },
		},
		{
			name: "PutHeader",
			f:    func() { gotN = PutHeader(hdr[:], h) },
		},
		{
			name: "AppendHeader",
			f:    func() { gotOut = AppendHeader(out[:0], h) },
		},
		{
			name: "ParseWireHeader",
			f:    func() { gotW, gotN, gotErr = ParseWireHeader(frame) },
		},
		{
			name: "WireHeader.Check",
			f:    func() { gotErr = gotW.Check(FromClient, 0x4, false) },
		},
		{
			name: "AppendFrame",
			f:    func() { gotOut = AppendFrame(out[:0], true, 0, OpBinary, payload[:100]) },
		},
		{
			name: "CheckHeader",
			f:    func() { gotErr = CheckHeader(h, FromClient, 0x4, false) },
		},
		{
			name: "CheckHeader error",
			f:    func() { gotErr = CheckHeader(h, FromClient, 0, true) },
		},
		{
			name: "Mask",
			f:    func() { Mask(payload, testKey, 3) },
		},
		{
			name: "Validator.Write",
			f: func() {
				var v Validator
				gotOK = v.Write(text[:100]) && v.Write(text[100:]) && v.Complete()
			},
		},
		{
			name: "ValidUTF8",
			f:    func() { gotOK = ValidUTF8(text) },
		},
		{
			name: "ParseClosePayload",
			f:    func() { _, gotOut, gotErr = ParseClosePayload(closeOK) },
		},
		{
			name: "ParseClosePayload error",
			f:    func() { _, gotOut, gotErr = ParseClosePayload(closeBad) },
		},
		{
			name: "AppendClosePayload",
			f:    func() { gotOut = AppendClosePayload(out[:0], 1000, reason) },
		},
	}
	for _, tt := range tests {
		if n := testing.AllocsPerRun(100, tt.f); n != 0 {
			t.Errorf(
				"%s: %v allocations per run; want 0",
				tt.name, n,
			)
		}
	}
	// Keep the results observable.
	_, _, _, _, _, _ = gotH, gotW, gotN, gotErr, gotOK, gotOut
}

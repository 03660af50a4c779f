package engine_test

import "testing"

// TestBridgeConformance runs the RFC 6455 conformance tests against the
// same echo endpoints served through the net/http bridge: cfStart, seeing
// a subtest of this test, starts the server with Config.BridgeOnly behind
// a net/http server. The slowest tests, whose subject the bridge does not
// change (idle pings, frames cut into many writes, the largest messages,
// decompression bombs), are left to the direct runs.
func TestBridgeConformance(t *testing.T) {
	for _, tc := range []struct {
		name string
		run  func(*testing.T)
	}{
		{"Framing", TestConformanceFraming},
		{"ReservedBits", TestConformanceReservedBits},
		{"ReservedBitsSameWrite", TestConformanceReservedBitsSameWrite},
		{"ReservedOpcodes", TestConformanceReservedOpcodes},
		{"BadHeaders", TestConformanceBadHeaders},
		{"Fragmentation", TestConformanceFragmentation},
		{"UTF8", TestConformanceUTF8},
		{"UTF8FailFast", TestConformanceUTF8FailFast},
		{"Close", TestConformanceClose},
		{"CloseCodes", TestConformanceCloseCodes},
		{"CloseAfterReplies", TestConformanceCloseAfterReplies},
		{"MessageLimit", TestConformanceMessageLimit},
		{"HugeLengthUnderHugeLimit", TestConformanceHugeLengthUnderHugeLimit},
		{"DeflateNegotiation", TestConformanceDeflateNegotiation},
		{"DeflateExchange", TestConformanceDeflateExchange},
		{"DeflateServerContextTakeover", TestConformanceDeflateServerContextTakeover},
		{"DeflateFragmented", TestConformanceDeflateFragmented},
		{"DeflateMixed", TestConformanceDeflateMixed},
		{"DeflateReservedBits", TestConformanceDeflateReservedBits},
		{"DeflateBadData", TestConformanceDeflateBadData},
		{"DeflateEventSend", TestConformanceDeflateEventSend},
		{"DeflateConcurrentSend", TestConformanceDeflateConcurrentSend},
	} {
		t.Run(tc.name, tc.run)
	}
}

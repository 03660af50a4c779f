package conn

import "strconv"

// StatusCode is a close status code (RFC 6455 section 7.4 and the IANA
// "WebSocket Close Code Number Registry").
type StatusCode uint16

// The status codes RFC 6455 and the IANA registry define.
const (
	StatusNormalClosure      StatusCode = 1000
	StatusGoingAway          StatusCode = 1001
	StatusProtocolError      StatusCode = 1002
	StatusUnsupportedData    StatusCode = 1003
	StatusReserved           StatusCode = 1004 // reserved; never sent
	StatusNoStatusReceived   StatusCode = 1005 // reported locally, never sent: the close frame had no code
	StatusAbnormalClosure    StatusCode = 1006 // reported locally, never sent: no close frame at all
	StatusInvalidPayloadData StatusCode = 1007
	StatusPolicyViolation    StatusCode = 1008
	StatusMessageTooBig      StatusCode = 1009
	StatusMandatoryExtension StatusCode = 1010
	StatusInternalError      StatusCode = 1011
	StatusServiceRestart     StatusCode = 1012
	StatusTryAgainLater      StatusCode = 1013
	StatusBadGateway         StatusCode = 1014
	StatusTLSHandshake       StatusCode = 1015 // reported locally, never sent

	// StatusEndpointUnavailable is .NET's name for StatusGoingAway.
	StatusEndpointUnavailable = StatusGoingAway
	// StatusInvalidMessageType is .NET's name for StatusUnsupportedData.
	StatusInvalidMessageType = StatusUnsupportedData
	// StatusEmpty is .NET's name for StatusNoStatusReceived.
	StatusEmpty = StatusNoStatusReceived
)

var statusNames = map[StatusCode]string{
	StatusNormalClosure:      "NormalClosure",
	StatusGoingAway:          "GoingAway",
	StatusProtocolError:      "ProtocolError",
	StatusUnsupportedData:    "UnsupportedData",
	StatusReserved:           "Reserved",
	StatusNoStatusReceived:   "NoStatusReceived",
	StatusAbnormalClosure:    "AbnormalClosure",
	StatusInvalidPayloadData: "InvalidPayloadData",
	StatusPolicyViolation:    "PolicyViolation",
	StatusMessageTooBig:      "MessageTooBig",
	StatusMandatoryExtension: "MandatoryExtension",
	StatusInternalError:      "InternalError",
	StatusServiceRestart:     "ServiceRestart",
	StatusTryAgainLater:      "TryAgainLater",
	StatusBadGateway:         "BadGateway",
	StatusTLSHandshake:       "TLSHandshake",
}

// String returns the code's registry name, or its number for codes in the
// application (3000-4999) and other ranges.
func (c StatusCode) String() string {
	if s, ok := statusNames[c]; ok {
		return s
	}
	return "StatusCode(" + strconv.Itoa(int(c)) + ")"
}

// Sendable reports whether c may be sent in a close frame: 1000-1003,
// 1007-1014 and the application ranges 3000-4999.
func (c StatusCode) Sendable() bool {
	switch {
	case c >= 1000 && c <= 1003, c >= 1007 && c <= 1014:
		return true
	case c >= 3000 && c <= 4999:
		return true
	}
	return false
}

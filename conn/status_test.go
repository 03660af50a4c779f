package conn

import "testing"

func TestStateString(t *testing.T) {
	cases := map[State]string{
		StateConnecting:    "Connecting",
		StateOpen:          "Open",
		StateCloseSent:     "CloseSent",
		StateCloseReceived: "CloseReceived",
		StateClosed:        "Closed",
		StateAborted:       "Aborted",
		State(42):          "State(42)",
	}
	for s, want := range cases {
		if got := s.String(); got != want {
			t.Errorf("State(%d).String() = %q, want %q", int32(s), got, want)
		}
	}
}

func TestStatusCodes(t *testing.T) {
	named := []struct {
		code StatusCode
		num  uint16
		send bool
	}{
		{StatusNormalClosure, 1000, true},
		{StatusGoingAway, 1001, true},
		{StatusProtocolError, 1002, true},
		{StatusUnsupportedData, 1003, true},
		{StatusReserved, 1004, false},
		{StatusNoStatusReceived, 1005, false},
		{StatusAbnormalClosure, 1006, false},
		{StatusInvalidPayloadData, 1007, true},
		{StatusPolicyViolation, 1008, true},
		{StatusMessageTooBig, 1009, true},
		{StatusMandatoryExtension, 1010, true},
		{StatusInternalError, 1011, true},
		{StatusServiceRestart, 1012, true},
		{StatusTryAgainLater, 1013, true},
		{StatusBadGateway, 1014, true},
		{StatusTLSHandshake, 1015, false},
		{StatusCode(999), 999, false},
		{StatusCode(1016), 1016, false},
		{StatusCode(2999), 2999, false},
		{StatusCode(3000), 3000, true},
		{StatusCode(4999), 4999, true},
		{StatusCode(5000), 5000, false},
	}
	for _, c := range named {
		if uint16(c.code) != c.num {
			t.Errorf("%v = %d, want %d", c.code, uint16(c.code), c.num)
		}
		if c.code.Sendable() != c.send {
			t.Errorf("%d.Sendable() = %v, want %v", c.num, c.code.Sendable(), c.send)
		}
	}
	if StatusTryAgainLater.String() != "TryAgainLater" || StatusCode(4000).String() != "StatusCode(4000)" {
		t.Errorf("String: %q %q", StatusTryAgainLater.String(), StatusCode(4000).String())
	}
}

func TestCloseStatusOfError(t *testing.T) {
	err := error(&CloseError{Code: StatusMessageTooBig, Reason: "too big"})
	if got := CloseStatus(err); got != StatusMessageTooBig {
		t.Fatalf("CloseStatus = %v", got)
	}
	if got := CloseStatus(ErrClosed); got != 0 {
		t.Fatalf("CloseStatus(ErrClosed) = %v", got)
	}
	if err.Error() != "conn: close 1009 (MessageTooBig): too big" {
		t.Fatalf("Error() = %q", err.Error())
	}
}

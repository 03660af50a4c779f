package codec

import (
	"errors"
	"strings"
	"testing"

	"github.com/gobwas/ws"
)

// asError is errors.As for *Error.
func asError(err error, target **Error) bool {
	return errors.As(err, target)
}

func TestErrors(t *testing.T) {
	tests := []struct {
		err  *Error
		code ws.StatusCode
	}{
		{err: ErrReservedOpcode, code: 1002},
		{err: ErrReservedBits, code: 1002},
		{err: ErrRsv1NotFirst, code: 1002},
		{err: ErrUnmasked, code: 1002},
		{err: ErrControlFragmented, code: 1002},
		{err: ErrControlTooLong, code: 1002},
		{err: ErrUnexpectedContinuation, code: 1002},
		{err: ErrExpectedContinuation, code: 1002},
		{err: ErrNonMinimalLength, code: 1002},
		{err: ErrLengthOverflow, code: 1002},
		{err: ErrInvalidUTF8, code: 1007},
		{err: ErrInvalidCloseCode, code: 1002},
		{err: ErrClosePayloadLength, code: 1002},
		{err: ErrMessageTooBig, code: 1009},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		if tt.err.Code != tt.code {
			t.Errorf(
				"%q: code %d; want %d",
				tt.err.Reason, tt.err.Code, tt.code,
			)
		}
		msg := tt.err.Error()
		if msg != "codec: "+tt.err.Reason || !strings.HasPrefix(msg, "codec: ") || tt.err.Reason == "" {
			t.Errorf(
				"Error() = %q; want \"codec: \" + a reason",
				msg,
			)
		}
		if seen[msg] {
			t.Errorf(
				"two errors share the message %q",
				msg,
			)
		}
		seen[msg] = true
	}
}

package codec

import (
	"errors"
	"testing"

	"github.com/volley-ws/volley/conn"
)

func TestErrors(t *testing.T) {
	tests := []struct {
		err  *conn.CloseError
		code conn.StatusCode
	}{
		{err: ErrReservedOpcode, code: 1002},
		{err: ErrReservedBits, code: 1002},
		{err: ErrRsv1NotFirst, code: 1002},
		{err: ErrUnmasked, code: 1002},
		{err: ErrMasked, code: 1002},
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
		{err: ErrBadDeflate, code: 1007},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		if tt.err.Code != tt.code {
			t.Errorf("%q: code %d; want %d", tt.err.Reason, tt.err.Code, tt.code)
		}
		if conn.CloseStatus(tt.err) != tt.code {
			t.Errorf("%q: conn.CloseStatus = %v; want %d", tt.err.Reason, conn.CloseStatus(tt.err), tt.code)
		}
		var ce *conn.CloseError
		if !errors.As(error(tt.err), &ce) || ce != tt.err {
			t.Errorf("%q: errors.As does not find the *conn.CloseError", tt.err.Reason)
		}
		msg := tt.err.Error()
		if tt.err.Reason == "" || seen[msg] {
			t.Errorf("error %q: empty reason, or a message another error shares", msg)
		}
		seen[msg] = true
	}
}

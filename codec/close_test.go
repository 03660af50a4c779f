package codec

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/volley-ws/volley/conn"
)

// refWireCode is the reference for ValidWireCloseCode, written as the list
// of what RFC 6455 section 7.4 and the IANA registry allow.
func refWireCode(c int) bool {
	switch {
	case c == 1000, c == 1001, c == 1002, c == 1003:
		return true // normal, going away, protocol error, unsupported data
	case c == 1004, c == 1005, c == 1006:
		return false // reserved, no status (local), abnormal closure (local)
	case c >= 1007 && c <= 1011:
		return true // invalid payload, policy, too big, extension, internal error
	case c == 1012, c == 1013, c == 1014:
		return true // service restart, try again later, bad gateway (IANA)
	case c == 1015:
		return false // TLS handshake (local)
	case c >= 1016 && c <= 2999:
		return false // reserved for future revisions
	case c >= 3000 && c <= 3999:
		return true // registered by libraries, frameworks, applications
	case c >= 4000 && c <= 4999:
		return true // private use
	}
	return false // 0-999 and 5000 and up
}

func TestValidWireCloseCode(t *testing.T) {
	tests := []struct {
		code conn.StatusCode
		want bool
	}{
		{code: 0, want: false},
		{code: 999, want: false},
		{code: 1000, want: true},
		{code: 1001, want: true},
		{code: 1002, want: true},
		{code: 1003, want: true},
		{code: 1004, want: false},
		{code: 1005, want: false},
		{code: 1006, want: false},
		{code: 1007, want: true},
		{code: 1011, want: true},
		{code: 1012, want: true},
		{code: 1013, want: true},
		{code: 1014, want: true},
		{code: 1015, want: false},
		{code: 1016, want: false},
		{code: 2000, want: false},
		{code: 2999, want: false},
		{code: 3000, want: true},
		{code: 3999, want: true},
		{code: 4000, want: true},
		{code: 4999, want: true},
		{code: 5000, want: false},
		{code: 65535, want: false},
	}
	for _, tt := range tests {
		if got := ValidWireCloseCode(tt.code); got != tt.want {
			t.Errorf(
				"ValidWireCloseCode(%d) = %t; want %t",
				tt.code, got, tt.want,
			)
		}
	}
	for c := 0; c <= 0xffff; c++ {
		if got, want := ValidWireCloseCode(conn.StatusCode(c)), refWireCode(c); got != want {
			t.Fatalf(
				"ValidWireCloseCode(%d) = %t; want %t",
				c, got, want,
			)
		}
	}
}

func TestParseClosePayload(t *testing.T) {
	tests := []struct {
		name   string
		in     []byte
		code   conn.StatusCode
		reason string
		err    error
	}{
		{
			name: "empty",
			in:   []byte{},
			code: conn.StatusNoStatusReceived,
		},
		{
			name: "one byte",
			in:   []byte{0x03},
			err:  ErrClosePayloadLength,
		},
		{
			name: "1000 without reason",
			in:   []byte{0x03, 0xe8},
			code: 1000,
		},
		{
			name:   "1001 with reason",
			in:     []byte("\x03\xe9bye"),
			code:   1001,
			reason: "bye",
		},
		{
			name:   "1014 with a UTF-8 reason",
			in:     []byte("\x03\xf6Gateway ☹"),
			code:   1014,
			reason: "Gateway ☹",
		},
		{
			name: "3000",
			in:   []byte{0x0b, 0xb8},
			code: 3000,
		},
		{
			name: "4999",
			in:   []byte{0x13, 0x87},
			code: 4999,
		},
		{
			name: "0",
			in:   []byte{0x00, 0x00},
			err:  ErrInvalidCloseCode,
		},
		{
			name: "999",
			in:   []byte{0x03, 0xe7},
			err:  ErrInvalidCloseCode,
		},
		{
			name: "1004",
			in:   []byte{0x03, 0xec},
			err:  ErrInvalidCloseCode,
		},
		{
			name: "1005 on the wire",
			in:   []byte{0x03, 0xed},
			err:  ErrInvalidCloseCode,
		},
		{
			name: "1006 on the wire",
			in:   []byte{0x03, 0xee},
			err:  ErrInvalidCloseCode,
		},
		{
			name: "1015 on the wire",
			in:   []byte{0x03, 0xf7},
			err:  ErrInvalidCloseCode,
		},
		{
			name: "1016",
			in:   []byte{0x03, 0xf8},
			err:  ErrInvalidCloseCode,
		},
		{
			name: "2999",
			in:   []byte{0x0b, 0xb7},
			err:  ErrInvalidCloseCode,
		},
		{
			name: "5000",
			in:   []byte{0x13, 0x88},
			err:  ErrInvalidCloseCode,
		},
		{
			name: "invalid code wins over invalid reason",
			in:   []byte("\x03\xed\xff"),
			err:  ErrInvalidCloseCode,
		},
		{
			name: "reason not UTF-8",
			in:   []byte("\x03\xe8\xff"),
			err:  ErrInvalidUTF8,
		},
		{
			name: "reason a surrogate",
			in:   []byte("\x03\xe8ok\xed\xa0\x80"),
			err:  ErrInvalidUTF8,
		},
		{
			name: "reason cut inside a code point",
			in:   []byte("\x03\xe8caf\xc3"),
			err:  ErrInvalidUTF8,
		},
		{
			name:   "125 bytes",
			in:     append([]byte{0x0f, 0xa0}, strings.Repeat("r", 123)...),
			code:   4000,
			reason: strings.Repeat("r", 123),
		},
		{
			name: "126 bytes",
			in:   append([]byte{0x0f, 0xa0}, strings.Repeat("r", 124)...),
			err:  ErrControlTooLong,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, reason, err := ParseClosePayload(tt.in)
			if code != tt.code || string(reason) != tt.reason || err != tt.err {
				t.Fatalf(
					"ParseClosePayload(% x) = %d, %q, %v; want %d, %q, %v",
					tt.in, code, reason, err, tt.code, tt.reason, tt.err,
				)
			}
			if err != nil || len(tt.in) == 0 {
				if reason != nil {
					t.Fatalf(
						"reason = %q; want nil",
						reason,
					)
				}
				return
			}
			// reason aliases the payload.
			if len(reason) > 0 && &reason[0] != &tt.in[2] {
				t.Fatal("reason does not alias the payload")
			}
			// And the payload is what AppendClosePayload builds.
			if got := AppendClosePayload(nil, code, string(reason)); !bytes.Equal(got, tt.in) {
				t.Fatalf(
					"AppendClosePayload(%d, %q) = % x; want % x",
					code, reason, got, tt.in,
				)
			}
		})
	}
}

func TestParseClosePayloadEveryCode(t *testing.T) {
	for c := 0; c <= 0xffff; c++ {
		p := []byte{byte(c >> 8), byte(c), 'o', 'k'}
		code, reason, err := ParseClosePayload(p)
		if refWireCode(c) {
			if err != nil || int(code) != c || string(reason) != "ok" {
				t.Fatalf(
					"ParseClosePayload(% x) = %d, %q, %v; want %d, \"ok\", nil",
					p, code, reason, err, c,
				)
			}
		} else if err != ErrInvalidCloseCode || code != 0 || reason != nil {
			t.Fatalf(
				"ParseClosePayload(% x) = %d, %q, %v; want 0, nil, %v",
				p, code, reason, err, ErrInvalidCloseCode,
			)
		}
	}
}

func TestAppendClosePayload(t *testing.T) {
	a123 := strings.Repeat("a", 123)
	tests := []struct {
		name   string
		code   conn.StatusCode
		reason string
		want   string // payload after the two code bytes, or "-" for none
	}{
		{
			name: "no status",
			code: conn.StatusNoStatusReceived,
			want: "-",
		},
		{
			name:   "no status drops the reason",
			code:   conn.StatusNoStatusReceived,
			reason: "ignored",
			want:   "-",
		},
		{
			name: "code only",
			code: conn.StatusNormalClosure,
			want: "",
		},
		{
			name:   "short reason",
			code:   conn.StatusTryAgainLater,
			reason: "later",
			want:   "later",
		},
		{
			name:   "exactly 123 bytes",
			code:   conn.StatusGoingAway,
			reason: a123,
			want:   a123,
		},
		{
			name:   "124 ASCII bytes",
			code:   conn.StatusGoingAway,
			reason: a123 + "b",
			want:   a123,
		},
		{
			name:   "300 ASCII bytes",
			code:   conn.StatusGoingAway,
			reason: strings.Repeat("x", 300),
			want:   strings.Repeat("x", 123),
		},
		{
			name:   "2-byte code point across the limit",
			code:   conn.StatusGoingAway,
			reason: a123[:122] + "é",
			want:   a123[:122],
		},
		{
			name:   "2-byte code point ending at the limit",
			code:   conn.StatusGoingAway,
			reason: a123[:121] + "éz",
			want:   a123[:121] + "é",
		},
		{
			name:   "3-byte code point across the limit, 1 byte in",
			code:   conn.StatusGoingAway,
			reason: a123[:122] + "€",
			want:   a123[:122],
		},
		{
			name:   "3-byte code point across the limit, 2 bytes in",
			code:   conn.StatusGoingAway,
			reason: a123[:121] + "€",
			want:   a123[:121],
		},
		{
			name:   "4-byte code point across the limit, 3 bytes in",
			code:   conn.StatusGoingAway,
			reason: a123[:120] + "😀",
			want:   a123[:120],
		},
		{
			name:   "4-byte code point ending at the limit",
			code:   conn.StatusGoingAway,
			reason: a123[:119] + "😀😀",
			want:   a123[:119] + "😀",
		},
		{
			name:   "all 4-byte code points",
			code:   4321,
			reason: strings.Repeat("😀", 40),
			want:   strings.Repeat("😀", 30),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prefix := []byte("keep")
			got := AppendClosePayload(prefix, tt.code, tt.reason)
			want := "keep"
			if tt.want != "-" {
				want += string([]byte{byte(tt.code >> 8), byte(tt.code)}) + tt.want
			}
			if string(got) != want {
				t.Fatalf(
					"AppendClosePayload(keep, %d, %q) = %q; want %q",
					tt.code, tt.reason, got, want,
				)
			}
			payload := got[len(prefix):]
			if len(payload) > MaxControlPayload || !utf8.Valid(payload[min(2, len(payload)):]) {
				t.Fatalf(
					"payload % x is too long or its reason is not UTF-8",
					payload,
				)
			}
			code, reason, err := ParseClosePayload(payload)
			if err != nil || code != tt.code || (tt.want != "-" && string(reason) != tt.want) {
				t.Fatalf(
					"ParseClosePayload(% x) = %d, %q, %v",
					payload, code, reason, err,
				)
			}
		})
	}
}

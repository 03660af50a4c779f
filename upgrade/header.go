package upgrade

import "iter"

// HeaderField is one header field: a name and its value, as sent (values
// trimmed of surrounding whitespace).
type HeaderField struct {
	Name, Value string
}

// Header holds request header fields in arrival order. Lookups are
// case-insensitive on names (ASCII case folding); names keep the case in
// which they were sent. The zero value is empty and usable.
//
// The strings a Header returns are immutable Go strings: they stay valid for
// as long as the caller keeps them, independently of any input buffer.
// A Header is not safe for concurrent use while it is being modified.
type Header struct {
	fields []HeaderField
}

// Get returns the value of the first field called name, or "" when there is
// none. It does not allocate.
func (h *Header) Get(name string) string {
	for i := range h.fields {
		if equalFold(h.fields[i].Name, name) {
			return h.fields[i].Value
		}
	}
	return ""
}

// Values returns the values of all fields called name, in arrival order. It
// returns nil, without allocating, when there is none; otherwise it
// allocates a new slice that the caller owns.
func (h *Header) Values(name string) []string {
	n := h.count(name)
	if n == 0 {
		return nil
	}
	vs := make([]string, 0, n)
	for i := range h.fields {
		if equalFold(h.fields[i].Name, name) {
			vs = append(vs, h.fields[i].Value)
		}
	}
	return vs
}

// Len returns the number of fields.
func (h *Header) Len() int {
	return len(h.fields)
}

// Field returns the i-th field in arrival order. It panics unless
// 0 <= i < h.Len().
func (h *Header) Field(i int) HeaderField {
	return h.fields[i]
}

// Add appends a field. It does not validate name or value.
func (h *Header) Add(name, value string) {
	h.fields = append(h.fields, HeaderField{Name: name, Value: value})
}

// HasToken reports whether any field called name contains token as one of
// its comma-separated elements, compared case-insensitively, e.g.
// HasToken("Connection", "upgrade") for "Connection: keep-alive, Upgrade".
// It does not allocate.
func (h *Header) HasToken(name, token string) bool {
	found := false
	h.Tokens(name, func(t string) bool {
		found = equalFold(t, token)
		return !found
	})
	return found
}

// Tokens calls fn for each comma-separated element of every field called
// name, in order, trimmed of surrounding spaces and tabs; empty elements are
// skipped, as RFC 9110 section 5.6.1 requires. Commas inside double-quoted
// strings do not split elements, so an extension offer such as
// `foo; bar="a,b"` stays whole. Iteration stops when fn returns false.
// The tokens are substrings of the field values and stay valid indefinitely.
func (h *Header) Tokens(name string, fn func(token string) bool) {
	for i := range h.fields {
		if equalFold(h.fields[i].Name, name) {
			if !splitList(h.fields[i].Value, fn) {
				return
			}
		}
	}
}

// tokens returns the elements of the comma-separated lists of the fields
// named name, as Tokens yields them.
func (h *Header) tokens(name string) iter.Seq[string] {
	return func(yield func(string) bool) { h.Tokens(name, yield) }
}

// count returns the number of fields called name.
func (h *Header) count(name string) int {
	n := 0
	for i := range h.fields {
		if equalFold(h.fields[i].Name, name) {
			n++
		}
	}
	return n
}

// splitList calls fn for each non-empty, trimmed element of the
// comma-separated list v, honouring double-quoted strings with backslash
// escapes. It reports whether fn never returned false.
func splitList(v string, fn func(string) bool) bool {
	start := 0
	quoted := false
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case quoted && c == '\\':
			i++
		case c == '"':
			quoted = !quoted
		case c == ',' && !quoted:
			if t := trimOWS(v[start:i]); t != "" && !fn(t) {
				return false
			}
			start = i + 1
		}
	}
	if t := trimOWS(v[start:]); t != "" {
		return fn(t)
	}
	return true
}

// trimOWS removes leading and trailing spaces and horizontal tabs.
func trimOWS(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// equalFold reports whether a and b are equal under ASCII case folding.
func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if lower(a[i]) != lower(b[i]) {
			return false
		}
	}
	return true
}

// lower maps an ASCII upper-case letter to lower case and leaves any other
// byte alone.
func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + ('a' - 'A')
	}
	return c
}

// isTokenChar reports whether c may appear in an RFC 9110 token.
func isTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	switch c {
	case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~':
		return true
	}
	return false
}

// isToken reports whether s is a non-empty RFC 9110 token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTokenChar(s[i]) {
			return false
		}
	}
	return true
}

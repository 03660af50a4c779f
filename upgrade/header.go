package upgrade

import "github.com/volley-ws/volley/internal/ascii"

// HeaderField is one header field: a name and its value, as sent (values
// trimmed of surrounding whitespace).
type HeaderField struct {
	Name, Value string
}

// Header holds header fields in arrival order. Lookups are case-insensitive
// on names (ASCII case folding); names keep the case in which they were
// sent. It is a plain slice: range over it, append to it; nil is an empty
// Header.
//
// The strings of a request's Header are immutable Go strings: they stay
// valid for as long as the caller keeps them, independently of any input
// buffer. A Header is not safe for concurrent use while it is modified.
type Header []HeaderField

// Get returns the value of the first field called name, or "" when there is
// none. It does not allocate.
func (h Header) Get(name string) string {
	for i := range h {
		if ascii.EqualFold(h[i].Name, name) {
			return h[i].Value
		}
	}
	return ""
}

// Values returns the values of all fields called name, in arrival order. It
// returns nil, without allocating, when there is none; otherwise it
// allocates a new slice that the caller owns.
func (h Header) Values(name string) []string {
	var vs []string
	for i := range h {
		if ascii.EqualFold(h[i].Name, name) {
			if vs == nil {
				vs = make([]string, 0, h.Count(name))
			}
			vs = append(vs, h[i].Value)
		}
	}
	return vs
}

// Count returns the number of fields called name.
func (h Header) Count(name string) int {
	n := 0
	for i := range h {
		if ascii.EqualFold(h[i].Name, name) {
			n++
		}
	}
	return n
}

// Add appends a field. It does not validate name or value.
func (h *Header) Add(name, value string) {
	*h = append(*h, HeaderField{Name: name, Value: value})
}

// HasToken reports whether any field called name contains token as one of
// its comma-separated elements, compared case-insensitively, e.g.
// HasToken("Connection", "upgrade") for "Connection: keep-alive, Upgrade".
// It does not allocate.
func (h Header) HasToken(name, token string) bool {
	found := false
	h.Tokens(name, func(t string) bool {
		found = ascii.EqualFold(t, token)
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
func (h Header) Tokens(name string, fn func(token string) bool) {
	for i := range h {
		if ascii.EqualFold(h[i].Name, name) {
			if !ascii.SplitList(h[i].Value, fn) {
				return
			}
		}
	}
}

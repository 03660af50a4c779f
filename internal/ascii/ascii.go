// Package ascii holds the byte-level helpers of HTTP/1.1 parsing (RFC 9110
// tokens, lists and case folding) that the upgrade package's Header and the
// engine's request parser share. Everything here works on ASCII only and
// allocates nothing.
package ascii

// EqualFold reports whether a and b are equal under ASCII case folding.
func EqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if Lower(a[i]) != Lower(b[i]) {
			return false
		}
	}
	return true
}

// Lower maps an ASCII upper-case letter to lower case and leaves any other
// byte alone.
func Lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + ('a' - 'A')
	}
	return c
}

// TrimOWS removes leading and trailing spaces and horizontal tabs.
func TrimOWS(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// SplitList calls fn for each non-empty, trimmed element of the
// comma-separated list v (RFC 9110 section 5.6.1), honouring double-quoted
// strings with backslash escapes. It reports whether fn never returned
// false.
func SplitList(v string, fn func(string) bool) bool {
	start := 0
	quoted := false
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case quoted && c == '\\':
			i++
		case c == '"':
			quoted = !quoted
		case c == ',' && !quoted:
			if t := TrimOWS(v[start:i]); t != "" && !fn(t) {
				return false
			}
			start = i + 1
		}
	}
	if t := TrimOWS(v[start:]); t != "" {
		return fn(t)
	}
	return true
}

// IsTokenChar reports whether c may appear in an RFC 9110 token.
func IsTokenChar(c byte) bool {
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

// IsToken reports whether s is a non-empty RFC 9110 token.
func IsToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !IsTokenChar(s[i]) {
			return false
		}
	}
	return true
}

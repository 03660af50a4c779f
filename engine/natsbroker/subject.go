package natsbroker

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/volley-ws/volley/conn"
	"github.com/volley-ws/volley/engine"
)

// Topic names and their subjects: the escaping is specified in the package
// documentation ("Subjects").

// The prefix's limit and default.
const (
	// MaxPrefixLen is the longest Config.Prefix in bytes.
	MaxPrefixLen = 512
	// DefaultPrefix is the subject prefix when Config.Prefix is empty.
	DefaultPrefix = "volley."
)

// ErrInvalidSubject is wrapped by the errors of UnescapeTopic and
// Broker.Topic for a string that EscapeTopic cannot have produced.
var ErrInvalidSubject = errors.New("nats: not a volley topic subject")

const upperHex = "0123456789ABCDEF"

// safe reports whether c stands for itself in an escaped segment.
func safe(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}

// checkTopic returns nil if topic is a valid topic name: 1 to engine.MaxTopicLength
// bytes of valid UTF-8 without NUL. Its errors wrap conn.ErrInvalidTopic.
func checkTopic(topic string) error {
	switch {
	case topic == "":
		return fmt.Errorf("%w: empty", conn.ErrInvalidTopic)
	case len(topic) > engine.MaxTopicLength:
		return fmt.Errorf("%w: %d bytes, more than %d", conn.ErrInvalidTopic, len(topic), engine.MaxTopicLength)
	case !utf8.ValidString(topic):
		return fmt.Errorf("%w: %.64q is not valid UTF-8", conn.ErrInvalidTopic, topic)
	case strings.IndexByte(topic, 0) >= 0:
		return fmt.Errorf("%w: %.64q contains NUL", conn.ErrInvalidTopic, topic)
	}
	return nil
}

// EscapeTopic returns the subject tokens that carry topic, without the
// prefix (see the package documentation's "Subjects"). Its error wraps
// conn.ErrInvalidTopic when topic is not a valid topic name (1 to 1024 bytes of
// valid UTF-8 without NUL). Safe for concurrent use.
func EscapeTopic(topic string) (string, error) {
	if err := checkTopic(topic); err != nil {
		return "", err
	}
	return string(appendEscaped(nil, topic)), nil
}

// appendEscaped appends the escaped form of a valid topic to dst.
func appendEscaped(dst []byte, topic string) []byte {
	segStart := true
	for i := 0; i < len(topic); i++ {
		c := topic[i]
		switch {
		case c == '.':
			if segStart {
				dst = append(dst, '%')
			}
			dst = append(dst, '.')
			segStart = true
			continue
		case safe(c):
			dst = append(dst, c)
		default:
			dst = append(dst, '%', upperHex[c>>4], upperHex[c&0xf])
		}
		segStart = false
	}
	if segStart {
		dst = append(dst, '%')
	}
	return dst
}

// UnescapeTopic is EscapeTopic's inverse: it returns the topic whose escaped
// form is s. Its error wraps ErrInvalidSubject when EscapeTopic returns s
// for no topic: an empty token, a byte that should have been escaped, a
// malformed, lower-case or needless escape, or a result that is not a valid
// topic name. Safe for concurrent use.
func UnescapeTopic(s string) (string, error) {
	if s == "" {
		return "", fmt.Errorf("%w: empty", ErrInvalidSubject)
	}
	if len(s) > 3*engine.MaxTopicLength {
		return "", fmt.Errorf("%w: %d bytes, longer than any escaped topic", ErrInvalidSubject, len(s))
	}
	buf := make([]byte, 0, len(s))
	first := true
	for tok := range strings.SplitSeq(s, ".") {
		if !first {
			buf = append(buf, '.')
		}
		first = false
		var err error
		if buf, err = appendUnescapedToken(buf, tok); err != nil {
			return "", err
		}
	}
	topic := string(buf)
	if err := checkTopic(topic); err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalidSubject, err)
	}
	return topic, nil
}

// appendUnescapedToken appends the segment that tok (one dot-free token)
// stands for.
func appendUnescapedToken(dst []byte, tok string) ([]byte, error) {
	switch tok {
	case "":
		return nil, fmt.Errorf("%w: empty token", ErrInvalidSubject)
	case "%":
		return dst, nil
	}
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		if safe(c) {
			dst = append(dst, c)
			continue
		}
		if c != '%' {
			return nil, fmt.Errorf("%w: byte %q must be escaped", ErrInvalidSubject, c)
		}
		if i+2 >= len(tok) {
			return nil, fmt.Errorf("%w: truncated escape %q", ErrInvalidSubject, tok[i:])
		}
		hi, lo := unhex(tok[i+1]), unhex(tok[i+2])
		if hi < 0 || lo < 0 {
			return nil, fmt.Errorf("%w: bad escape %q (upper-case hex digits)", ErrInvalidSubject, tok[i:i+3])
		}
		b := byte(hi<<4 | lo)
		if safe(b) || b == '.' {
			return nil, fmt.Errorf("%w: needless escape %q", ErrInvalidSubject, tok[i:i+3])
		}
		dst = append(dst, b)
		i += 2
	}
	return dst, nil
}

// unhex returns the value of an upper-case hex digit, or -1.
func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// checkPrefix returns nil if p is a valid Config.Prefix: at most
// MaxPrefixLen bytes of non-empty tokens, each followed by a dot, of
// printable ASCII other than the wildcards '*' and '>'.
func checkPrefix(p string) error {
	if len(p) > MaxPrefixLen {
		return fmt.Errorf("nats: Config.Prefix is %d bytes, more than %d", len(p), MaxPrefixLen)
	}
	if !strings.HasSuffix(p, ".") {
		return fmt.Errorf("nats: Config.Prefix %q does not end with a dot", p)
	}
	for tok := range strings.SplitSeq(p[:len(p)-1], ".") {
		if tok == "" {
			return fmt.Errorf("nats: Config.Prefix %q has an empty token", p)
		}
		for i := 0; i < len(tok); i++ {
			if c := tok[i]; c <= ' ' || c >= 0x7f || c == '*' || c == '>' {
				return fmt.Errorf("nats: Config.Prefix %q contains %q: only printable ASCII without '*' and '>' is allowed", p, c)
			}
		}
	}
	return nil
}

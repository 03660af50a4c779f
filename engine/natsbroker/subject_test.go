package natsbroker

import (
	"errors"
	"strings"
	"testing"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/volley-ws/volley/conn"
	"github.com/volley-ws/volley/engine"
)

// TestEscapeTopic: the escaped forms are the documented ones and come back.
func TestEscapeTopic(t *testing.T) {
	for _, tc := range []struct{ topic, want string }{
		{"chat", "chat"},
		{"chat.room-1", "chat.room-1"},
		{"Snake_case.UPPER.123", "Snake_case.UPPER.123"},
		{"a b", "a%20b"},
		{"*", "%2A"},
		{">", "%3E"},
		{"chat.*", "chat.%2A"},
		{"chat.>", "chat.%3E"},
		{"100%", "100%25"},
		{"%", "%25"},
		{"$SYS.x", "%24SYS.x"},
		{"user:42/inbox", "user%3A42%2Finbox"},
		{"tab\there", "tab%09here"},
		{"new\r\nline", "new%0D%0Aline"},
		{"\x7f", "%7F"},
		{"é", "%C3%A9"},
		{"日本", "%E6%97%A5%E6%9C%AC"},
		{".", "%.%"},
		{"..", "%.%.%"},
		{".a", "%.a"},
		{"a.", "a.%"},
		{"a..b", "a.%.b"},
	} {
		got, err := EscapeTopic(tc.topic)
		if err != nil || got != tc.want {
			t.Errorf("EscapeTopic(%q) = %q, %v; want %q", tc.topic, got, err, tc.want)
			continue
		}
		back, err := UnescapeTopic(got)
		if err != nil || back != tc.topic {
			t.Errorf("UnescapeTopic(%q) = %q, %v; want %q", got, back, err, tc.topic)
		}
		if !server.IsValidPublishSubject(DefaultPrefix + got) {
			t.Errorf("%q is not a valid NATS publish subject", DefaultPrefix+got)
		}
	}
}

// TestEscapeTopicLimits: the longest topics, escaped or not, round-trip and
// stay within the documented length.
func TestEscapeTopicLimits(t *testing.T) {
	for _, topic := range []string{
		strings.Repeat("a", engine.MaxTopicLength),
		strings.Repeat("*", engine.MaxTopicLength),
		strings.Repeat(".", engine.MaxTopicLength),
		strings.Repeat("日", engine.MaxTopicLength/3),
	} {
		got, err := EscapeTopic(topic)
		if err != nil {
			t.Fatalf("EscapeTopic(%.20q...): %v", topic, err)
		}
		if len(got) > 3*engine.MaxTopicLength {
			t.Errorf("EscapeTopic(%.20q...) is %d bytes, more than %d", topic, len(got), 3*engine.MaxTopicLength)
		}
		if back, err := UnescapeTopic(got); err != nil || back != topic {
			t.Errorf("UnescapeTopic(EscapeTopic(%.20q...)) = %.20q, %v", topic, back, err)
		}
	}
}

// TestEscapeTopicInvalid: topics the engine refuses are refused here too,
// with errors wrapping conn.ErrInvalidTopic.
func TestEscapeTopicInvalid(t *testing.T) {
	for _, topic := range []string{
		"",
		strings.Repeat("a", engine.MaxTopicLength+1),
		"bad\xffutf8",
		"\xc3",
		"nul\x00inside",
	} {
		got, err := EscapeTopic(topic)
		if !errors.Is(err, conn.ErrInvalidTopic) {
			t.Errorf("EscapeTopic(%.20q) = %q, %v; want an error wrapping conn.ErrInvalidTopic", topic, got, err)
		}
	}
}

// TestUnescapeTopicInvalid: only EscapeTopic's outputs are accepted, so the
// mapping is a bijection between topics and their subjects.
func TestUnescapeTopicInvalid(t *testing.T) {
	for _, s := range []string{
		"",     // no token
		"a..b", // empty token
		".a",   // empty token
		"a.",   // empty token
		"%",    // the empty topic
		"%.",   // empty token after the empty segment
		"a b",  // unescaped space
		"*",    // wildcard
		">",    // wildcard
		"a*",   // unescaped byte
		"é",    // unescaped non-ASCII
		"%2",   // truncated escape
		"a%",   // truncated escape in a longer token
		"%2a",  // lower-case hex
		"%G0",  // not hex
		"%41",  // needless escape of 'A'
		"%2E",  // '.' escaped: dots are separators
		"%00",  // NUL
		"%FF",  // not UTF-8
		"%C3",  // truncated UTF-8
		"%%",   // "%" is a whole token only
		"%25%", // "%" inside a token
		strings.Repeat("a", engine.MaxTopicLength+1), // too long a topic
	} {
		got, err := UnescapeTopic(s)
		if !errors.Is(err, ErrInvalidSubject) {
			t.Errorf("UnescapeTopic(%.20q) = %q, %v; want an error wrapping ErrInvalidSubject", s, got, err)
		}
	}
}

// TestBrokerSubject: the prefix comes first and Topic takes it off.
func TestBrokerSubject(t *testing.T) {
	b := &Broker{prefix: "app.ws."}
	s, err := b.Subject("chat.*")
	if err != nil || s != "app.ws.chat.%2A" {
		t.Fatalf("Subject = %q, %v", s, err)
	}
	if topic, err := b.Topic(s); err != nil || topic != "chat.*" {
		t.Fatalf("Topic(%q) = %q, %v", s, topic, err)
	}
	for _, bad := range []string{"volley.chat", "app.ws.", "app.wschat", "app.ws.a b"} {
		if topic, err := b.Topic(bad); !errors.Is(err, ErrInvalidSubject) {
			t.Errorf("Topic(%q) = %q, %v; want ErrInvalidSubject", bad, topic, err)
		}
	}
	if _, err := b.Subject(""); !errors.Is(err, conn.ErrInvalidTopic) {
		t.Errorf("Subject(\"\"): %v, want conn.ErrInvalidTopic", err)
	}
}

// TestCheckPrefix: prefixes must be literal, dot-terminated subject tokens.
func TestCheckPrefix(t *testing.T) {
	for _, p := range []string{"volley.", "a.b.c.", "app-1_$x.", strings.Repeat("p", MaxPrefixLen-1) + "."} {
		if err := checkPrefix(p); err != nil {
			t.Errorf("checkPrefix(%q): %v", p, err)
		}
	}
	for _, p := range []string{".", "volley", "a..b.", ".a.", "a b.", "a*.", ">.", "é.", "a\t.", strings.Repeat("p", MaxPrefixLen) + "."} {
		if err := checkPrefix(p); err == nil || !strings.Contains(err.Error(), "Config.Prefix") {
			t.Errorf("checkPrefix(%.20q) = %v, want an error naming Config.Prefix", p, err)
		}
	}
}

package natsbroker

import (
	"errors"
	"testing"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/volley-ws/volley/conn"
	"github.com/volley-ws/volley/engine"
)

// FuzzEscapeTopic: every valid topic escapes to a legal literal NATS
// subject of printable ASCII that unescapes to it; every invalid one is
// refused. The seed corpus is in testdata/fuzz/FuzzEscapeTopic.
func FuzzEscapeTopic(f *testing.F) {
	for _, s := range []string{"chat", "a.b", ".", "a..b", "*", ">", "%", "日本.語", "a b", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, topic string) {
		esc, err := EscapeTopic(topic)
		if err != nil {
			if !errors.Is(err, conn.ErrInvalidTopic) || checkTopic(topic) == nil {
				t.Fatalf("EscapeTopic(%q): %v", topic, err)
			}
			return
		}
		if checkTopic(topic) != nil {
			t.Fatalf("EscapeTopic(%q) accepted an invalid topic", topic)
		}
		for i := 0; i < len(esc); i++ {
			if c := esc[i]; c <= ' ' || c >= 0x7f || c == '*' || c == '>' {
				t.Fatalf("EscapeTopic(%q) = %q contains %q", topic, esc, c)
			}
		}
		if len(esc) > 3*engine.MaxTopicLength {
			t.Fatalf("EscapeTopic(%q) is %d bytes", topic, len(esc))
		}
		if !server.IsValidPublishSubject(DefaultPrefix + esc) {
			t.Fatalf("EscapeTopic(%q) = %q: not a valid publish subject", topic, esc)
		}
		back, err := UnescapeTopic(esc)
		if err != nil || back != topic {
			t.Fatalf("UnescapeTopic(%q) = %q, %v; want %q", esc, back, err, topic)
		}
	})
}

// FuzzUnescapeTopic: whatever UnescapeTopic accepts is exactly what
// EscapeTopic returns for the result (the encoding is canonical). The seed
// corpus is in testdata/fuzz/FuzzUnescapeTopic.
func FuzzUnescapeTopic(f *testing.F) {
	for _, s := range []string{"chat", "a.%.b", "%.%", "%2A", "%2a", "%41", "%E6%97%A5", "a..b", "%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		topic, err := UnescapeTopic(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidSubject) {
				t.Fatalf("UnescapeTopic(%q): %v does not wrap ErrInvalidSubject", s, err)
			}
			return
		}
		esc, err := EscapeTopic(topic)
		if err != nil || esc != s {
			t.Fatalf("EscapeTopic(UnescapeTopic(%q) = %q) = %q, %v", s, topic, esc, err)
		}
	})
}

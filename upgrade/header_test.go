package upgrade

import (
	"slices"
	"testing"
)

func TestHeaderZeroValue(t *testing.T) {
	var h Header
	if len(h) != 0 || h.Get("X") != "" || h.Values("X") != nil || h.HasToken("X", "y") || h.Count("X") != 0 {
		t.Fatal("zero Header is not empty")
	}
	h.Tokens("X", func(string) bool { t.Fatal("Tokens called fn on empty Header"); return true })
	h.Add("X-A", "1")
	if len(h) != 1 || h[0] != (HeaderField{"X-A", "1"}) {
		t.Fatalf("after Add: %+v", h)
	}
}

func TestHeaderLookup(t *testing.T) {
	var h Header
	h.Add("Accept", "a")
	h.Add("x-multi", "1")
	h.Add("Other", "o")
	h.Add("X-MULTI", "2")
	h.Add("Empty", "")

	tests := []struct {
		name   string
		get    string
		values []string
	}{
		{"Accept", "a", []string{"a"}},
		{"ACCEPT", "a", []string{"a"}},
		{"X-Multi", "1", []string{"1", "2"}},
		{"empty", "", []string{""}},
		{"Missing", "", nil},
		{"Accep", "", nil},
	}
	for _, tt := range tests {
		if got := h.Get(tt.name); got != tt.get {
			t.Errorf("Get(%q) = %q, want %q", tt.name, got, tt.get)
		}
		if got := h.Values(tt.name); !slices.Equal(got, tt.values) || (got == nil) != (tt.values == nil) {
			t.Errorf("Values(%q) = %q, want %q", tt.name, got, tt.values)
		}
	}
	if len(h) != 5 || h.Count("x-multi") != 2 {
		t.Errorf("len %d, Count(x-multi) %d; want 5, 2", len(h), h.Count("x-multi"))
	}
	for i, want := range []string{"Accept", "x-multi", "Other", "X-MULTI", "Empty"} {
		if got := h[i].Name; got != want {
			t.Errorf("Field(%d).Name = %q, want %q", i, got, want)
		}
	}
}

func TestHeaderValuesIsACopy(t *testing.T) {
	var h Header
	h.Add("A", "1")
	v := h.Values("A")
	v[0] = "changed"
	if h.Get("A") != "1" {
		t.Fatal("Values shares storage with the Header")
	}
}

func TestHeaderHasToken(t *testing.T) {
	tests := []struct {
		values []string
		token  string
		want   bool
	}{
		{[]string{"Upgrade"}, "upgrade", true},
		{[]string{"keep-alive, Upgrade"}, "upgrade", true},
		{[]string{"keep-alive,upgrade"}, "Upgrade", true},
		{[]string{"keep-alive", "Upgrade"}, "upgrade", true},
		{[]string{"  upgrade\t , close"}, "close", true},
		{[]string{"keep-alive"}, "upgrade", false},
		{[]string{"upgrades"}, "upgrade", false},
		{[]string{"no-upgrade"}, "upgrade", false},
		{[]string{"up grade"}, "upgrade", false},
		{[]string{`"upgrade"`}, "upgrade", false},
		{[]string{""}, "upgrade", false},
		{[]string{",,"}, "", false},
		{nil, "upgrade", false},
	}
	for _, tt := range tests {
		var h Header
		h.Add("Other", "upgrade")
		for _, v := range tt.values {
			h.Add("connection", v)
		}
		if got := h.HasToken("Connection", tt.token); got != tt.want {
			t.Errorf("HasToken(Connection: %q, %q) = %v, want %v", tt.values, tt.token, got, tt.want)
		}
	}
}

func TestHeaderTokens(t *testing.T) {
	tests := []struct {
		values []string
		want   []string
	}{
		{[]string{"chat, superchat"}, []string{"chat", "superchat"}},
		{[]string{"chat", "superchat"}, []string{"chat", "superchat"}},
		{[]string{" a ,\tb\t,, ,c,"}, []string{"a", "b", "c"}},
		{[]string{""}, nil},
		{[]string{"permessage-deflate; client_max_window_bits, x-webkit-deflate-frame"},
			[]string{"permessage-deflate; client_max_window_bits", "x-webkit-deflate-frame"}},
		{[]string{`foo; bar="a,b", baz`}, []string{`foo; bar="a,b"`, "baz"}},
		{[]string{`foo; bar="a\",b", baz`}, []string{`foo; bar="a\",b"`, "baz"}},
		{[]string{`foo; bar="unterminated, baz`}, []string{`foo; bar="unterminated, baz`}},
	}
	for _, tt := range tests {
		var h Header
		for _, v := range tt.values {
			h.Add("Sec-WebSocket-Protocol", v)
		}
		h.Add("Other", "x")
		var got []string
		h.Tokens("sec-websocket-protocol", func(tok string) bool {
			got = append(got, tok)
			return true
		})
		if !slices.Equal(got, tt.want) {
			t.Errorf("Tokens(%q) = %q, want %q", tt.values, got, tt.want)
		}
	}
}

func TestHeaderTokensStop(t *testing.T) {
	var h Header
	h.Add("L", "a, b")
	h.Add("L", "c")
	var got []string
	h.Tokens("L", func(tok string) bool {
		got = append(got, tok)
		return tok != "b"
	})
	if !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("Tokens after stop = %q, want [a b]", got)
	}
}

func TestHeaderNoAllocs(t *testing.T) {
	var h Header
	h.Add("Connection", "keep-alive, Upgrade")
	h.Add("Upgrade", "websocket")
	allocs := testing.AllocsPerRun(100, func() {
		if !h.HasToken("connection", "upgrade") || h.Get("upgrade") != "websocket" || h.Values("missing") != nil {
			t.Fatal("lookup failed")
		}
	})
	if allocs != 0 {
		t.Fatalf("Get/HasToken/Values(missing) allocate %v times, want 0", allocs)
	}
}

package ascii

import "testing"

func TestIsToken(t *testing.T) {
	for _, s := range []string{"GET", "X-Custom_1", "!#$%&'*+-.^_`|~", "a"} {
		if !IsToken(s) {
			t.Errorf("IsToken(%q) = false", s)
		}
	}
	for _, s := range []string{"", "a b", "a:b", "a\tb", "(x)", "\"q\"", "é", "a\x00"} {
		if IsToken(s) {
			t.Errorf("IsToken(%q) = true", s)
		}
	}
}

func TestEqualFold(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want bool
	}{{"Upgrade", "upgrade", true}, {"UPGRADE", "upgrade", true}, {"upgrade", "upgrades", false}, {"é", "É", false}, {"", "", true}} {
		if got := EqualFold(c.a, c.b); got != c.want {
			t.Errorf("EqualFold(%q, %q) = %v", c.a, c.b, got)
		}
	}
}

func TestSplitList(t *testing.T) {
	var got []string
	SplitList(` a ,, "b,c" ,d\`, func(s string) bool { got = append(got, s); return true })
	want := []string{"a", `"b,c"`, `d\`}
	if len(got) != len(want) {
		t.Fatalf("SplitList = %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("SplitList = %q, want %q", got, want)
		}
	}
}

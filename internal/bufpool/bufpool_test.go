package bufpool

import "testing"

func TestPoolDropsLargeBuffers(t *testing.T) {
	p := Pool{Max: 1024}
	b := p.Get()
	b.B = append(b.B, make([]byte, 4096)...)
	p.Put(b)
	for range 100 {
		if c := cap(p.Get().B); c > 1024 {
			t.Fatalf("the pool handed back a buffer of %d bytes, over its cap of 1024", c)
		}
	}
	s := p.Get()
	s.B = append(s.B, "abc"...)
	p.Put(s)
	if got := p.Get(); len(got.B) != 0 {
		t.Fatalf("a pooled buffer comes back with %d bytes", len(got.B))
	}
}

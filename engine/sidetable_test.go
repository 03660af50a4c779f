package engine

import "testing"

// TestSideTableShrinks: a table that a burst filled gives its map back once
// it is empty again; one that stays small keeps its map, so entries that
// come and go one at a time (a handshake's OnOpen) allocate nothing.
func TestSideTableShrinks(t *testing.T) {
	var tab sideTable[int]
	conns := make([]connection, 1000)
	for i := range conns {
		tab.set(&conns[i], i)
	}
	for i := range conns[:len(conns)-1] {
		if v, ok := tab.take(&conns[i]); !ok || v != i {
			t.Fatalf("take %d: %d, %v", i, v, ok)
		}
	}
	if tab.m == nil {
		t.Fatal("map dropped while an entry is left")
	}
	if v, ok := tab.get(&conns[len(conns)-1]); !ok || v != len(conns)-1 {
		t.Fatalf("get the last: %d, %v", v, ok)
	}
	tab.take(&conns[len(conns)-1])
	if tab.m != nil {
		t.Fatalf("map of %d entries kept once empty", len(conns))
	}

	c := &conns[0]
	tab.set(c, 1)
	tab.take(c)
	if tab.m == nil {
		t.Fatal("small map dropped: every entry would allocate one")
	}
	if n := testing.AllocsPerRun(100, func() { tab.set(c, 2); tab.take(c) }); n != 0 {
		t.Errorf("set and take of one entry: %v allocations, want 0", n)
	}
	tab.setFirst(c, 3)
	tab.setFirst(c, 4)
	if v, _ := tab.take(c); v != 3 {
		t.Errorf("setFirst kept %d, want the first value, 3", v)
	}
}

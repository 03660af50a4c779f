package engine

import "sync"

// sideTable holds a value for the few connections that need one at a
// time (OnOpen's request while it runs, why an event connection ended
// while it closes, the wake-up of a sender waiting for room), so that a
// connection does not carry a field for it all its life. The zero value is
// ready to use; safe for concurrent use.
//
// A Go map keeps its memory when entries are deleted, so a table that a
// burst filled (every connection closing at once) drops its map once it is
// empty again; a table that stays small keeps its map, and the entries
// come and go without allocating.
type sideTable[V any] struct {
	mu   sync.Mutex
	m    map[*connection]V
	peak int // the most entries m has held
}

// sideTableKeep is the most entries a table's map may have held and still
// be kept once empty.
const sideTableKeep = 64

// set records v for c.
func (t *sideTable[V]) set(c *connection, v V) {
	t.mu.Lock()
	t.put(c, v)
	t.mu.Unlock()
}

// setFirst records v for c unless c has a value already.
func (t *sideTable[V]) setFirst(c *connection, v V) {
	t.mu.Lock()
	if _, ok := t.m[c]; !ok {
		t.put(c, v)
	}
	t.mu.Unlock()
}

// put records v for c; mu must be held.
func (t *sideTable[V]) put(c *connection, v V) {
	if t.m == nil {
		t.m = make(map[*connection]V)
	}
	t.m[c] = v
	t.peak = max(t.peak, len(t.m))
}

// get returns c's value and whether it has one.
func (t *sideTable[V]) get(c *connection) (V, bool) {
	t.mu.Lock()
	v, ok := t.m[c]
	t.mu.Unlock()
	return v, ok
}

// take returns c's value, and whether it had one, and forgets it.
func (t *sideTable[V]) take(c *connection) (V, bool) {
	t.mu.Lock()
	v, ok := t.m[c]
	if ok {
		delete(t.m, c)
		if len(t.m) == 0 && t.peak > sideTableKeep {
			t.m, t.peak = nil, 0
		}
	}
	t.mu.Unlock()
	return v, ok
}

// keys returns the connections that have a value now.
func (t *sideTable[V]) keys() []*connection {
	t.mu.Lock()
	defer t.mu.Unlock()
	cs := make([]*connection, 0, len(t.m))
	for c := range t.m {
		cs = append(cs, c)
	}
	return cs
}

// getOrSet returns c's value, recording the one mk makes when c has none,
// and whether it was there already.
func (t *sideTable[V]) getOrSet(c *connection, mk func() V) (V, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if v, ok := t.m[c]; ok {
		return v, true
	}
	v := mk()
	t.put(c, v)
	return v, false
}

package engine

import (
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/volley-ws/volley/codec"
	"github.com/volley-ws/volley/conn"
	"github.com/volley-ws/volley/internal/logattr"
)

// Topics: publish once, deliver to every subscriber on every loop.
//
// The index maps a topic's name to its subscribers, kept per event loop
// (topicLoop). It is split in shards by the name's hash, so publishes and
// subscriptions on different topics rarely meet on a lock. A publish
// encodes its frame once (fanout.go) and hands it to each loop that has
// subscribers, once; the loop appends a reference to it to its
// subscribers' outboxes (sendBuf.appendShared) and writes each of them
// once per batch.
//
// Locks, always taken in this order: a connection's connTopics.mu, a
// shard's mu, a topic's mu, a loop queue's mu. Broker.Subscribe and
// Unsubscribe run under the shard's mu, so the calls for one topic come in
// order.

// MaxTopicLength is the longest topic name, in bytes.
const MaxTopicLength = 1024

// topicShards is the number of shards of the topic index.
const topicShards = 64

// topicIndex holds the topics that have subscribers on this node.
type topicIndex struct {
	shards [topicShards]topicShard
}

type topicShard struct {
	mu sync.RWMutex
	m  map[string]*topic
	_  [64 - 24 - 8]byte // one shard per cache line
}

// topic is one topic's subscribers, by event loop.
type topic struct {
	name  string
	mu    sync.RWMutex
	loops []topicLoop // indexed by loopQueue.idx; grown as subscribers come
	n     int         // subscribers
}

// topicLoop is a topic's subscribers on one loop: a slice for the loop to
// run through, and each one's place in it, so that leaving costs no scan.
type topicLoop struct {
	subs []*connection
	at   map[*connection]int
}

// connTopics is what a connection subscribes to (in Server.subs while it
// has subscriptions).
type connTopics struct {
	mu     sync.Mutex
	topics []*topic
	loop   int  // the connection's loop queue index
	closed bool // the connection ended: no more subscriptions
}

// checkTopic reports whether name may be a topic: 1 to MaxTopicLength
// bytes of valid UTF-8 without NUL.
func checkTopic(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: empty", conn.ErrInvalidTopic)
	case len(name) > MaxTopicLength:
		return fmt.Errorf("%w: %d bytes, over %d", conn.ErrInvalidTopic, len(name), MaxTopicLength)
	case !utf8.ValidString(name):
		return fmt.Errorf("%w: not valid UTF-8", conn.ErrInvalidTopic)
	case strings.IndexByte(name, 0) >= 0:
		return fmt.Errorf("%w: contains NUL", conn.ErrInvalidTopic)
	}
	return nil
}

// checkMessage reports whether a message of type t with data may be sent.
func checkMessage(t conn.MessageType, data []byte) error {
	if t != conn.Text && t != conn.Binary {
		return conn.ErrInvalidMessageType
	}
	if t == conn.Text && !codec.ValidUTF8(data) {
		return conn.ErrInvalidUTF8
	}
	return nil
}

// shard returns the shard of name (FNV-1a).
func (ix *topicIndex) shard(name string) *topicShard {
	h := uint32(2166136261)
	for i := 0; i < len(name); i++ {
		h = (h ^ uint32(name[i])) * 16777619
	}
	return &ix.shards[h%topicShards]
}

// lookup returns the topic name, or nil when it has no subscribers here.
func (ix *topicIndex) lookup(name string) *topic {
	sh := ix.shard(name)
	sh.mu.RLock()
	t := sh.m[name]
	sh.mu.RUnlock()
	return t
}

// subscribe adds c to topic name's subscribers. Any goroutine.
func (s *Server) subscribe(c *connection, name string) error {
	if err := checkTopic(name); err != nil {
		return err
	}
	q := s.loopOf(c)
	if q == nil {
		return conn.ErrClosed
	}
	s.topicsUsed.Store(true)
	ct, _ := s.subs.getOrSet(c, func() *connTopics { return &connTopics{loop: q.idx} })
	ct.mu.Lock()
	defer ct.mu.Unlock()
	c.signals.mark(subscribedMark, true)
	if ct.closed || c.out.isDead() || c.State().Final() {
		s.dropConnTopics(c, ct)
		return conn.ErrClosed
	}
	if slices.ContainsFunc(ct.topics, func(t *topic) bool { return t.name == name }) {
		return nil
	}
	sh := s.topics.shard(name)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	t := sh.m[name]
	if t == nil {
		if b := s.cfg.Broker; b != nil {
			if err := b.Subscribe(name); err != nil {
				return fmt.Errorf("engine: broker: %w", err)
			}
		}
		t = &topic{name: name}
		if sh.m == nil {
			sh.m = make(map[string]*topic)
		}
		sh.m[name] = t
		s.topicCount.Add(1)
	}
	t.mu.Lock()
	if len(t.loops) <= ct.loop {
		t.loops = append(t.loops, make([]topicLoop, ct.loop+1-len(t.loops))...)
	}
	tl := &t.loops[ct.loop]
	if tl.at == nil {
		tl.at = make(map[*connection]int)
	}
	tl.at[c] = len(tl.subs)
	tl.subs = append(tl.subs, c)
	t.n++
	t.mu.Unlock()
	ct.topics = append(ct.topics, t)
	s.subCount.Add(1)
	return nil
}

// dropConnTopics forgets ct, an empty subscription list of a connection
// that ended; ct.mu is held.
func (s *Server) dropConnTopics(c *connection, ct *connTopics) {
	if len(ct.topics) == 0 {
		if cur, ok := s.subs.get(c); ok && cur == ct {
			s.subs.take(c)
		}
	}
}

// unsubscribe removes c from topic name's subscribers. Any goroutine.
func (s *Server) unsubscribe(c *connection, name string) error {
	if err := checkTopic(name); err != nil {
		return err
	}
	ct, ok := s.subs.get(c)
	if !ok {
		return nil
	}
	ct.mu.Lock()
	defer ct.mu.Unlock()
	i := slices.IndexFunc(ct.topics, func(t *topic) bool { return t.name == name })
	if i < 0 {
		return nil
	}
	t := ct.topics[i]
	ct.topics = slices.Delete(ct.topics, i, i+1)
	s.leave(c, t, ct.loop)
	return nil
}

// unsubscribeAll ends c's subscriptions, as the connection ends. Any
// goroutine.
func (s *Server) unsubscribeAll(c *connection) {
	if !c.signals.has(subscribedMark) {
		return
	}
	ct, ok := s.subs.take(c)
	if !ok {
		return
	}
	ct.mu.Lock()
	ct.closed = true
	for _, t := range ct.topics {
		s.leave(c, t, ct.loop)
	}
	ct.topics = nil
	ct.mu.Unlock()
}

// leave removes c from t's subscribers on loop, and the topic from the
// index after its last subscriber. The connection's connTopics.mu is held.
func (s *Server) leave(c *connection, t *topic, loop int) {
	sh := s.topics.shard(t.name)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	t.mu.Lock()
	tl := &t.loops[loop]
	if i, ok := tl.at[c]; ok {
		last := len(tl.subs) - 1
		moved := tl.subs[last]
		tl.subs[i] = moved
		tl.at[moved] = i
		tl.subs[last] = nil
		tl.subs = tl.subs[:last]
		delete(tl.at, c)
		t.n--
		s.subCount.Add(-1)
	}
	empty := t.n == 0
	t.mu.Unlock()
	if empty && sh.m[t.name] == t {
		delete(sh.m, t.name)
		s.topicCount.Add(-1)
		if b := s.cfg.Broker; b != nil {
			if err := b.Unsubscribe(t.name); err != nil {
				s.log(slog.LevelWarn, "volley: broker unsubscribe failed", logattr.Topic(t.name), logattr.Err(err))
			}
		}
	}
}

// connTopicNames returns the names of the topics c is subscribed to.
func (s *Server) connTopicNames(c *connection) []string {
	ct, ok := s.subs.get(c)
	if !ok {
		return nil
	}
	ct.mu.Lock()
	defer ct.mu.Unlock()
	names := make([]string, len(ct.topics))
	for i, t := range ct.topics {
		names[i] = t.name
	}
	return names
}

// Subscribers returns the number of subscribers topic has on this node.
// Any goroutine.
func (s *Server) Subscribers(topic string) int {
	t := s.topics.lookup(topic)
	if t == nil {
		return 0
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.n
}

// Topics returns the topics that have subscribers on this node, sorted.
// Any goroutine.
func (s *Server) Topics() []string {
	var names []string
	for i := range s.topics.shards {
		sh := &s.topics.shards[i]
		sh.mu.RLock()
		for name := range sh.m {
			names = append(names, name)
		}
		sh.mu.RUnlock()
	}
	slices.Sort(names)
	return names
}

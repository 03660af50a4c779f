package main

import (
	"github.com/volley-ws/volley/bench/internal/proc"

	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// alive reports whether process pid exists and is not a zombie.
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	return i >= 0 && i+2 < len(b) && b[i+2] != 'Z' && b[i+2] != 'X'
}

// rssSampler reads the server's VmRSS every interval and keeps the peak.
// Past limit it calls trip once (the run then stops its clients).
type rssSampler struct {
	pid     int
	limit   int64
	trip    func()
	peak    atomic.Int64
	last    atomic.Int64
	samples atomic.Int64
	tripped atomic.Bool
	done    chan struct{}
	wg      sync.WaitGroup
}

func startRSS(pid int, every time.Duration, limit int64, trip func()) *rssSampler {
	s := &rssSampler{pid: pid, limit: limit, trip: trip, done: make(chan struct{})}
	if pid <= 0 {
		return s
	}
	s.sample()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-s.done:
				return
			case <-t.C:
				s.sample()
			}
		}
	}()
	return s
}

// sample reads VmRSS once; it returns 0 when it cannot.
func (s *rssSampler) sample() int64 {
	if s.pid <= 0 {
		return 0
	}
	v, err := proc.RSS(s.pid)
	if err != nil {
		return 0
	}
	s.samples.Add(1)
	s.last.Store(v)
	for {
		p := s.peak.Load()
		if v <= p || s.peak.CompareAndSwap(p, v) {
			break
		}
	}
	if s.limit > 0 && v > s.limit && s.tripped.CompareAndSwap(false, true) {
		s.trip()
	}
	return v
}

func (s *rssSampler) stop() {
	close(s.done)
	s.wg.Wait()
}

// tcpEntry is the part of a /proc/net/tcp line the tracker needs.
type tcpEntry struct {
	local, remote int // ports
	state         int
	txQueue       int64 // bytes written and not yet acknowledged by the peer
	rxQueue       int64 // bytes received and not yet read by the owner
	inode         uint64
}

// parseTCPLine parses one line of /proc/net/tcp or /proc/net/tcp6.
func parseTCPLine(line string) (tcpEntry, bool) {
	f := strings.Fields(line)
	if len(f) < 10 || !strings.HasSuffix(f[0], ":") {
		return tcpEntry{}, false
	}
	port := func(a string) (int, bool) {
		i := strings.LastIndexByte(a, ':')
		if i < 0 {
			return 0, false
		}
		p, err := strconv.ParseUint(a[i+1:], 16, 16)
		return int(p), err == nil
	}
	var e tcpEntry
	var ok1, ok2 bool
	e.local, ok1 = port(f[1])
	e.remote, ok2 = port(f[2])
	st, err1 := strconv.ParseUint(f[3], 16, 8)
	tx, rx, ok3 := strings.Cut(f[4], ":")
	txq, err3 := strconv.ParseUint(tx, 16, 32)
	rxq, err4 := strconv.ParseUint(rx, 16, 32)
	ino, err2 := strconv.ParseUint(f[9], 10, 64)
	if !ok1 || !ok2 || !ok3 || err1 != nil || err2 != nil || err3 != nil || err4 != nil {
		return tcpEntry{}, false
	}
	e.state, e.txQueue, e.rxQueue, e.inode = int(st), int64(txq), int64(rxq), ino
	return e, true
}

// tracker watches the server's side of every client connection in
// /proc/net/tcp and /proc/net/tcp6, without reading the connections: a
// socket the server still holds has an inode; once the server has closed
// its descriptor the socket is orphaned (inode 0) or gone. That tells
// when the server closed a connection even when its FIN or close frame is
// stuck behind data the client never read. The files are not a consistent
// snapshot (a socket can be skipped while others come and go), so a
// connection counts as closed only when two polls in a row agree, as of
// the first.
//
// It also keeps, per connection, the bytes the client sent that the
// server has not read yet: the client's send queue plus the server's
// receive queue. Not zero at the end means the server stopped reading.
type tracker struct {
	serverPort int
	mu         sync.Mutex
	conns      map[int]*hconn // by client port
	done       chan struct{}
	wg         sync.WaitGroup
	polls      atomic.Int64
	failed     atomic.Bool // /proc/net/tcp could not be read
}

func startTracker(serverPort int, every time.Duration) *tracker {
	t := &tracker{serverPort: serverPort, conns: map[int]*hconn{}, done: make(chan struct{})}
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		tk := time.NewTicker(every)
		defer tk.Stop()
		for {
			select {
			case <-t.done:
				return
			case <-tk.C:
				t.poll()
			}
		}
	}()
	return t
}

func (t *tracker) add(h *hconn) {
	if h.c == nil || h.port == 0 {
		return
	}
	t.mu.Lock()
	t.conns[h.port] = h
	t.mu.Unlock()
}

// forget stops watching h (before the client closes it itself).
func (t *tracker) forget(h *hconn) {
	t.mu.Lock()
	delete(t.conns, h.port)
	t.mu.Unlock()
}

func (t *tracker) stop() {
	close(t.done)
	t.wg.Wait()
}

// final polls twice, a moment apart, so that what happened up to now is
// confirmed.
func (t *tracker) final() {
	t.poll()
	time.Sleep(20 * time.Millisecond)
	t.poll()
}

func (t *tracker) poll() {
	t.mu.Lock()
	n := len(t.conns)
	t.mu.Unlock()
	if n == 0 {
		return
	}
	server := make(map[int]tcpEntry, n) // by client port
	client := make(map[int]tcpEntry, n)
	read := 0
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		read++
		for _, line := range strings.Split(string(b), "\n") {
			e, ok := parseTCPLine(line)
			switch {
			case !ok:
			case e.local == t.serverPort:
				// a port pair can show twice (an old TIME_WAIT and a
				// live socket): the live one wins
				if old, dup := server[e.remote]; !dup || old.inode == 0 {
					server[e.remote] = e
				}
			case e.remote == t.serverPort:
				if old, dup := client[e.local]; !dup || old.inode == 0 {
					client[e.local] = e
				}
			}
		}
	}
	if read == 0 {
		t.failed.Store(true)
		return
	}
	t.polls.Add(1)
	now := time.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	for port, h := range t.conns {
		e, ok := server[port]
		if ok && e.inode != 0 {
			h.seenOpen.Store(true)
			h.suspect = time.Time{}
			ce, cok := client[port]
			if cok {
				h.unread.Store(e.rxQueue + ce.txQueue)
			}
			continue
		}
		// judge only a connection the server is known to have accepted:
		// one still in the listen queue has no inode either
		if h.status != 101 && !h.seenOpen.Load() {
			continue
		}
		if h.suspect.IsZero() {
			h.suspect = now
		} else {
			h.markClosed(h.suspect)
		}
	}
}

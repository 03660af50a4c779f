package engine

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/panjf2000/gnet/v2"
	"golang.org/x/sys/unix"
)

// The event loops ServeHTTP hands connections to. gnet lists no loops, and
// its Engine.Register picks one with the engine's round-robin balancer,
// which the acceptor goroutine updates without synchronisation: calling it
// from ServeHTTP's goroutines would race with every accept. So the server
// finds its loops itself, the first time ServeHTTP needs one: it dials its
// own listener once per loop, from a source address it binds first; the
// acceptor spreads these probes over the loops like any connection, and
// OnOpen, recognising a probe by its source address, notes its loop
// (gnet.Conn.EventLoop) and closes it. Probing runs on the calling
// goroutine and leaves nothing behind; bridged connections then take the
// loops in turn.

// probeTimeout bounds the wait for one probe to be accepted.
const probeTimeout = 2 * time.Second

// errNoLoop reports that the server found none of its event loops.
var errNoLoop = errors.New("engine: no event loop accepted the bridge's probe")

// bridgeLoops is the list of loops, found once. The zero value is ready to
// use; safe for concurrent use.
type bridgeLoops struct {
	mu   sync.Mutex // held while probing
	list atomic.Pointer[[]gnet.EventLoop]
	next atomic.Uint32

	// The probes waiting for their OnOpen, by source address.
	probing atomic.Bool
	pmu     sync.Mutex
	probes  map[netip.AddrPort]chan<- gnet.EventLoop
}

// bridgeLoop returns the loop for the next bridged connection, probing
// the loops on the first call. The server must be running. Any goroutine.
func (s *Server) bridgeLoop() (gnet.EventLoop, error) {
	b := &s.bridge.loops
	p := b.list.Load()
	if p == nil {
		var err error
		if p, err = s.findLoops(); err != nil {
			return nil, err
		}
	}
	els := *p
	return els[int(b.next.Add(1)-1)%len(els)], nil
}

// findLoops probes the server's loops, once: until it has seen
// Config.EventLoops distinct ones, or after twice as many probes as that
// (connections of clients accepted between the probes may take loops the
// probes then miss). Any goroutine.
func (s *Server) findLoops() (*[]gnet.EventLoop, error) {
	b := &s.bridge.loops
	b.mu.Lock()
	defer b.mu.Unlock()
	if p := b.list.Load(); p != nil {
		return p, nil
	}
	want := max(s.cfg.EventLoops, 1)
	var els []gnet.EventLoop
	for range 2*want + 1 {
		el, err := s.probe()
		if err != nil {
			if len(els) > 0 {
				break
			}
			return nil, err
		}
		if !slices.Contains(els, el) {
			els = append(els, el)
		}
		if len(els) == want {
			break
		}
	}
	if len(els) == 0 {
		return nil, errNoLoop
	}
	b.list.Store(&els)
	return &els, nil
}

// probe dials the server's listener and returns the loop that accepted
// the connection. Any goroutine.
func (s *Server) probe() (gnet.EventLoop, error) {
	b := &s.bridge.loops
	ta, ok := s.addr.(*net.TCPAddr)
	if !ok {
		return nil, fmt.Errorf("engine: listener address %v is not TCP", s.addr)
	}
	target := ta.AddrPort()
	ip := target.Addr().Unmap()
	switch {
	case ip.IsUnspecified() && ip.Is4():
		ip = netip.AddrFrom4([4]byte{127, 0, 0, 1})
	case ip.IsUnspecified():
		ip = netip.IPv6Loopback()
	}
	ch := make(chan gnet.EventLoop, 1)
	var src netip.AddrPort
	d := net.Dialer{Timeout: probeTimeout, Control: func(_, _ string, rc syscall.RawConn) error {
		var err error
		cerr := rc.Control(func(fd uintptr) {
			if err = unix.Bind(int(fd), sockaddr(netip.AddrPortFrom(ip, 0))); err != nil {
				return
			}
			var sa unix.Sockaddr
			if sa, err = unix.Getsockname(int(fd)); err != nil {
				return
			}
			src = addrPortOf(sa)
			b.pmu.Lock()
			if b.probes == nil {
				b.probes = make(map[netip.AddrPort]chan<- gnet.EventLoop)
			}
			b.probes[src] = ch
			b.probing.Store(true)
			b.pmu.Unlock()
		})
		return errors.Join(cerr, err)
	}}
	defer func() {
		b.pmu.Lock()
		delete(b.probes, src)
		b.probing.Store(len(b.probes) > 0)
		b.pmu.Unlock()
	}()
	nc, err := d.Dial("tcp", netip.AddrPortFrom(ip, target.Port()).String())
	if err != nil {
		return nil, fmt.Errorf("engine: probing the event loops: %w", err)
	}
	defer nc.Close()
	t := time.NewTimer(probeTimeout)
	defer t.Stop()
	select {
	case el := <-ch:
		return el, nil
	case <-t.C:
		return nil, errNoLoop
	case <-s.stopped:
		return nil, errNoLoop
	}
}

// probed reports whether gc, just accepted, is one of the server's
// probes, and if so hands its loop to the prober. Loop only.
func (b *bridgeState) probed(gc gnet.Conn) bool {
	l := &b.loops
	if !l.probing.Load() {
		return false
	}
	ra, ok := gc.RemoteAddr().(*net.TCPAddr)
	if !ok {
		return false
	}
	ap := ra.AddrPort()
	ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	l.pmu.Lock()
	ch, ok := l.probes[ap]
	delete(l.probes, ap)
	l.pmu.Unlock()
	if ok {
		ch <- gc.EventLoop() // buffered, and one accept per source address
	}
	return ok
}

// sockaddr converts ap for the unix package.
func sockaddr(ap netip.AddrPort) unix.Sockaddr {
	if a := ap.Addr(); a.Is4() {
		return &unix.SockaddrInet4{Port: int(ap.Port()), Addr: a.As4()}
	}
	return &unix.SockaddrInet6{Port: int(ap.Port()), Addr: ap.Addr().As16()}
}

// addrPortOf converts sa, an IP socket address, to a netip.AddrPort with
// an unmapped address.
func addrPortOf(sa unix.Sockaddr) netip.AddrPort {
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(a.Port))
	case *unix.SockaddrInet6:
		return netip.AddrPortFrom(netip.AddrFrom16(a.Addr).Unmap(), uint16(a.Port))
	}
	return netip.AddrPort{}
}

package engine

import (
	"context"
	"net"
	"os"

	"github.com/panjf2000/gnet/v2"
	"golang.org/x/sys/unix"
)

// A loop's doorbell: how a publish makes an event loop drain its queue
// without allocating. gnet's EventLoop.Execute allocates a closure per
// call, so each loop queue gets one end of a socket pair, adopted by its
// loop (EventLoop.Enroll) with the queue as the connection's context; a
// publish that arms the queue writes one byte to the other end, and the
// loop's OnTraffic for that end drains the queue. Until the loop has
// adopted the doorbell (and if it cannot), the queue arms with Execute.

// installDoorbell creates q's doorbell and hands one end to q's loop. Any
// goroutine; it does not wait for the loop.
func (q *loopQueue) installDoorbell() {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return
	}
	f := os.NewFile(uintptr(fds[0]), "volley-doorbell")
	nc, err := net.FileConn(f) // a duplicate; gnet dups it again and closes this one
	f.Close()
	if err != nil {
		unix.Close(fds[1])
		return
	}
	q.mu.Lock()
	q.bell = fds[1]
	q.mu.Unlock()
	if _, err := q.el.Enroll(gnet.NewContext(context.Background(), q), nc); err != nil {
		nc.Close()
		q.closeDoorbell()
	}
}

// doorbellOpened is OnOpen for the loop's end of the doorbell: from now on
// a publish rings it. Loop only.
func (q *loopQueue) doorbellOpened() {
	q.mu.Lock()
	q.ringing = q.bell >= 0
	q.mu.Unlock()
}

// ring wakes the loop to drain the queue; q.mu is held. It reports false
// when the doorbell is not (or no longer) there.
func (q *loopQueue) ring() bool {
	if !q.ringing {
		return false
	}
	b := [1]byte{1}
	for {
		_, err := unix.Write(q.bell, b[:])
		switch err {
		case nil, unix.EAGAIN: // EAGAIN: unread rings are pending, the loop will drain
			return true
		case unix.EINTR:
			continue
		}
		return false
	}
}

// doorbellTraffic is OnTraffic for the loop's end of the doorbell: the
// rings are discarded and the queue drained. Loop only.
func (q *loopQueue) doorbellTraffic(gc gnet.Conn) gnet.Action {
	if n := gc.InboundBuffered(); n > 0 {
		_, _ = gc.Discard(n)
	}
	_ = q.Run(context.Background())
	return gnet.None
}

// closeDoorbell closes the publishers' end, as the loop's end closes (the
// engine stops). Any goroutine.
func (q *loopQueue) closeDoorbell() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.ringing = false
	if q.bell >= 0 {
		unix.Close(q.bell)
		q.bell = -1
	}
}

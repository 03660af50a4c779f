package engine_test

import (
	"bytes"
	"net"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// idDial opens a raw socket to addr and completes a WebSocket handshake on
// path. Only the fd is kept, so the client side adds nothing to the Go heap
// the benchmark measures.
func idDial(tb testing.TB, addr *net.TCPAddr, path string) int {
	tb.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
	if err != nil {
		tb.Fatal(err)
	}
	sa := &unix.SockaddrInet4{Port: addr.Port}
	copy(sa.Addr[:], addr.IP.To4())
	if err := unix.Connect(fd, sa); err != nil {
		tb.Fatal(err)
	}
	req := "GET " + path + " HTTP/1.1\r\nHost: " + addr.String() + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
	if _, err := unix.Write(fd, []byte(req)); err != nil {
		tb.Fatal(err)
	}
	var buf [512]byte
	n := 0
	for !bytes.Contains(buf[:n], []byte("\r\n\r\n")) {
		m, err := unix.Read(fd, buf[n:])
		if err != nil || m <= 0 {
			tb.Fatalf("handshake read: %v", err)
		}
		n += m
	}
	if !bytes.HasPrefix(buf[:n], []byte("HTTP/1.1 101 ")) {
		tb.Fatalf("handshake: %q", buf[:n])
	}
	return fd
}

// idEcho sends one masked 128-byte binary message on fd and reads its echo,
// so that the connection has been active before it idles.
func idEcho(tb testing.TB, fd int) {
	tb.Helper()
	payload := bytes.Repeat([]byte("v"), 128)
	if _, err := unix.Write(fd, dbFrame(0x82, payload)); err != nil {
		tb.Fatal(err)
	}
	var buf [2 + 2 + 128]byte
	for n := 0; n < len(buf); {
		m, err := unix.Read(fd, buf[n:])
		if err != nil || m <= 0 {
			tb.Fatalf("echo read: %v", err)
		}
		n += m
	}
	if buf[0] != 0x82 || !bytes.Equal(buf[4:], payload) {
		tb.Fatalf("echo: %x", buf[:4])
	}
}

// idInUse returns the live heap (the bytes of the objects left after
// collecting garbage, exact, where HeapInuse would count whole spans) and
// the stack memory in use.
func idInUse() (heap, stack uint64) {
	var m runtime.MemStats
	for range 3 {
		runtime.GC()
	}
	runtime.ReadMemStats(&m)
	return m.HeapAlloc, m.StackInuse
}

// BenchmarkIdleMemory reports the Go memory (heap and stacks in use, after
// a GC) that each idle open WebSocket holds, for both APIs: right after the
// handshake, and after one echoed message (the "-after-echo" rows: the
// blocking API's session goroutine has then also run its send path), and
// for a blocking handler that reads a request header before upgrading (the
// "block-request" row: its Context then keeps the parsed request). The
// kernel's socket buffers are not included. Run one row per process
// (-bench 'BenchmarkIdleMemory/block$'): a later blocking row reuses the
// descriptors (and 2 KiB stacks) of the goroutines an earlier row ended,
// which the runtime keeps for new goroutines, so it would count less.
func BenchmarkIdleMemory(b *testing.B) {
	const conns = 2000
	srv := ebServer(b)
	addr := srv.Addr().(*net.TCPAddr)
	for _, row := range []struct {
		name, path string
		echo       bool
	}{
		{"event", "/event", false},
		{"block", "/block", false},
		{"block-request", "/block-request", false},
		{"event-after-echo", "/event", true},
		{"block-after-echo", "/block", true},
	} {
		path, echo := row.path, row.echo
		b.Run(row.name, func(b *testing.B) {
			for b.Loop() {
				heap0, stack0 := idInUse()
				fds := make([]int, 0, conns)
				for range conns {
					fd := idDial(b, addr, path)
					if echo {
						idEcho(b, fd)
					}
					fds = append(fds, fd)
				}
				time.Sleep(100 * time.Millisecond) // let handlers reach Receive
				heap1, stack1 := idInUse()
				heap, stack := float64(int64(heap1)-int64(heap0))/conns, float64(int64(stack1)-int64(stack0))/conns
				b.ReportMetric(heap+stack, "B/conn")
				b.ReportMetric(heap, "heap-B/conn")
				b.ReportMetric(stack, "stack-B/conn")
				for _, fd := range fds {
					unix.Close(fd)
				}
				time.Sleep(200 * time.Millisecond)
			}
		})
	}
}

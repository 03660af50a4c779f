package engine

import (
	"fmt"
	"net"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/volley-ws/volley/codec"
)

// BenchmarkSendBufFlush measures what noCopyMin trades: one flush of n
// reply frames of size bytes each, to a TCP socket on 127.0.0.1 that a
// goroutine drains, with the payloads copied into the buffer (as Send and
// SendNoCopy below noCopyMin do: one iovec) or referenced where they are
// (as SendNoCopy does from noCopyMin: an iovec for each header and each
// payload). The kernel copies every byte into the socket either way; the
// difference is the user-space copy against the iovecs the kernel walks.
// The socket is blocking, so each writev writes everything. ns/msg is per
// frame.
func BenchmarkSendBufFlush(b *testing.B) {
	for _, n := range []int{1, 9} {
		for _, size := range []int{256, 512, 1024, 2048, 4096, 16384} {
			for _, mode := range []string{"copy", "reference"} {
				b.Run(fmt.Sprintf("%dx%dB/%s", n, size, mode), func(b *testing.B) {
					benchmarkSendBufFlush(b, n, size, mode == "reference")
				})
			}
		}
	}
}

func benchmarkSendBufFlush(b *testing.B, n, size int, reference bool) {
	fd := sbDrainedSocket(b)
	in := make([]byte, n*size) // the payloads, where a read left them
	for i := range in {
		in[i] = byte(i)
	}
	var sb sendBuf
	b.SetBytes(int64(n * size))
	b.ReportAllocs()
	for b.Loop() {
		sb.B = sb.B[:0]
		sb.ext, sb.extBytes = sb.ext[:0], 0
		for i := range n {
			p := in[i*size : (i+1)*size]
			sb.B = codec.AppendHeader(sb.B, sbHeader(len(p)))
			if reference {
				sb.reference(p)
			} else {
				sb.B = append(sb.B, p...)
			}
		}
		if w := sb.writev(fd); w != sb.size() {
			b.Fatalf("wrote %d of %d bytes", w, sb.size())
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/msg")
}

// sbDrainedSocket returns a blocking TCP socket connected to a listener
// on 127.0.0.1 whose side a goroutine reads and discards until the test
// ends.
func sbDrainedSocket(b *testing.B) int {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { unix.Close(fd) })
	addr := ln.Addr().(*net.TCPAddr)
	sa := &unix.SockaddrInet4{Port: addr.Port}
	copy(sa.Addr[:], addr.IP.To4())
	if err := unix.Connect(fd, sa); err != nil {
		b.Fatal(err)
	}
	peer, err := ln.Accept()
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	buf := make([]byte, 1<<20)
	go func() {
		defer close(done)
		for {
			if _, err := peer.Read(buf); err != nil {
				return
			}
		}
	}()
	b.Cleanup(func() {
		unix.Shutdown(fd, unix.SHUT_WR)
		<-done
		peer.Close()
	})
	return fd
}

// sbHeader is the header of a server's binary frame of n bytes.
func sbHeader(n int) codec.Header {
	return codec.Header{Fin: true, OpCode: codec.OpBinary, Length: int64(n)}
}

// Command writefloor measures what one small write(2) to a loopback TCP
// socket costs the writing process on this machine, and so how long any
// server needs to write once to each of N subscribers: the floor under a
// fan-out's delivery latency, whatever the server does between writes.
//
//	go run ./bench/cmd/writefloor -conns 10000 -size 130 -cap 0.5
//
// It opens -conns loopback connections from a reader process (itself,
// re-executed with -read and pinned to -reader-core) that reads and
// discards everything, as a load generator's subscribers do; then,
// pinned to -writer-core, it sweeps over the connections writing -size
// bytes to each (one write(2) per connection per sweep, the least a server
// can do to deliver anything to every subscriber) for -duration, and
// reports the writes per second, the writer's CPU per write (getrusage:
// user and system time, the kernel's TCP and loopback work for the write
// included) and the sweep's time. With -cap, the sweep time on a CPU budget
// of that fraction of a core is projected from the CPU per write: a
// publish reaches the last subscriber of a sweep no sooner than that.
//
// The last line on stdout is a JSON object with the results.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

type result struct {
	Conns         int     `json:"conns"`
	Size          int     `json:"size"`
	Writes        int64   `json:"writes"`
	Seconds       float64 `json:"seconds"`
	WritesPerSec  float64 `json:"writes_per_sec"`
	CPUPerWriteUs float64 `json:"cpu_per_write_us"` // writer's user+system CPU per write
	SweepMs       float64 `json:"sweep_ms"`         // measured: one write to every connection
	Cap           float64 `json:"cap,omitempty"`
	SweepAtCapMs  float64 `json:"sweep_at_cap_ms,omitempty"` // projected: conns × CPU per write ÷ cap
}

func main() {
	conns := flag.Int("conns", 10000, "connections (subscribers)")
	size := flag.Int("size", 130, "bytes per write (a 128-byte message's frame)")
	duration := flag.Duration("duration", 5*time.Second, "how long to sweep")
	capFrac := flag.Float64("cap", 0.5, "project the sweep time on this fraction of a core (0: none)")
	writerCore := flag.Int("writer-core", 0, "CPU the writer is pinned to (-1: none)")
	readerCore := flag.Int("reader-core", 1, "CPU the reader is pinned to (-1: none)")
	read := flag.String("read", "", "internal: be the reader, dialing this address")
	flag.Parse()
	if *read != "" {
		err := reader(*read, *conns, *readerCore)
		fmt.Fprintln(os.Stderr, "writefloor reader:", err)
		os.Exit(1)
	}
	r, err := writer(*conns, *size, *duration, *writerCore, *readerCore)
	if err != nil {
		fmt.Fprintln(os.Stderr, "writefloor:", err)
		os.Exit(1)
	}
	if *capFrac > 0 {
		r.Cap = *capFrac
		r.SweepAtCapMs = float64(r.Conns) * r.CPUPerWriteUs / *capFrac / 1000
	}
	fmt.Printf("%d writes of %d B over %d connections in %.2f s: %.0f writes/s, %.2f µs of CPU per write, a sweep every %.1f ms",
		r.Writes, r.Size, r.Conns, r.Seconds, r.WritesPerSec, r.CPUPerWriteUs, r.SweepMs)
	if r.Cap > 0 {
		fmt.Printf("; on %.2f of a core a sweep takes %.1f ms", r.Cap, r.SweepAtCapMs)
	}
	fmt.Println()
	out, _ := json.Marshal(r)
	fmt.Println(string(out))
}

// pin pins the calling thread to cpu (threads it starts later inherit
// the mask).
func pin(cpu int) error {
	if cpu < 0 {
		return nil
	}
	var set unix.CPUSet
	set.Set(cpu)
	return unix.SchedSetaffinity(0, &set)
}

// writer accepts conns connections from a reader process it starts, then
// sweeps over them writing size bytes to each until duration has passed.
func writer(conns, size int, duration time.Duration, writerCore, readerCore int) (result, error) {
	runtime.LockOSThread() // the sweeping thread is the one pinned and measured
	if err := pin(writerCore); err != nil {
		return result{}, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return result{}, err
	}
	defer ln.Close()
	self, err := os.Executable()
	if err != nil {
		return result{}, err
	}
	cmd := exec.Command(self, "-read", ln.Addr().String(), "-conns", strconv.Itoa(conns), "-reader-core", strconv.Itoa(readerCore))
	cmd.Stderr = os.Stderr
	ready, err := cmd.StdoutPipe()
	if err != nil {
		return result{}, err
	}
	if err := cmd.Start(); err != nil {
		return result{}, err
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()

	fds := make([]int, 0, conns)
	var files []*os.File
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	for len(fds) < conns {
		c, err := ln.Accept()
		if err != nil {
			return result{}, err
		}
		f, err := c.(*net.TCPConn).File() // a blocking duplicate of the socket
		c.Close()
		if err != nil {
			return result{}, err
		}
		files = append(files, f)
		fd := int(f.Fd())
		if err := unix.SetNonblock(fd, false); err != nil {
			return result{}, err
		}
		fds = append(fds, fd)
	}
	// The reader says when all its connections read.
	if _, err := bufio.NewReader(ready).ReadString('\n'); err != nil {
		return result{}, fmt.Errorf("reader: %w", err)
	}

	msg := make([]byte, size)
	for i := range msg {
		msg[i] = byte('a' + i%26)
	}
	var before unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_THREAD, &before); err != nil {
		return result{}, err
	}
	start := time.Now()
	var writes int64
	sweeps := 0
	for time.Since(start) < duration {
		for _, fd := range fds {
			if _, err := unix.Write(fd, msg); err != nil {
				return result{}, fmt.Errorf("write: %w", err)
			}
		}
		writes += int64(len(fds))
		sweeps++
	}
	elapsed := time.Since(start)
	var after unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_THREAD, &after); err != nil {
		return result{}, err
	}
	cpu := time.Duration(after.Utime.Nano()-before.Utime.Nano()) + time.Duration(after.Stime.Nano()-before.Stime.Nano())
	return result{
		Conns:         conns,
		Size:          size,
		Writes:        writes,
		Seconds:       elapsed.Seconds(),
		WritesPerSec:  float64(writes) / elapsed.Seconds(),
		CPUPerWriteUs: float64(cpu.Microseconds()) / float64(writes),
		SweepMs:       elapsed.Seconds() * 1000 / float64(sweeps),
	}, nil
}

// reader dials conns connections to addr, reads and discards everything on
// each, and prints a line on stdout once they are all open. It returns
// only when it fails; the writer kills it when done.
func reader(addr string, conns, core int) error {
	if err := pin(core); err != nil {
		return err
	}
	for range conns {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			return err
		}
		go func() {
			buf := make([]byte, 4096)
			for {
				if _, err := c.Read(buf); err != nil {
					return
				}
			}
		}()
	}
	fmt.Println("ready")
	select {}
}

package proc

import (
	"bytes"
	"math"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// selfCPU is this process's CPU time (user + system) from getrusage.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// othersCPU sums the CPU time of every userland process but this one and
// the server, with the time of their waited-for children (so that a test
// binary that ran and exited under a live go command is counted too).
func othersCPU(server int) time.Duration {
	self := os.Getpid()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	var ticks uint64
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self || pid == server {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) < 15 {
			continue
		}
		// f[6] is field 9 (flags): skip kernel threads (PF_KTHREAD)
		if flags, _ := strconv.ParseUint(f[6], 10, 64); flags&0x00200000 != 0 {
			continue
		}
		for _, k := range f[11:15] { // utime stime cutime cstime
			v, _ := strconv.ParseUint(k, 10, 64)
			ticks += v
		}
	}
	return time.Duration(ticks) * time.Second / ClockTicks
}

// coreTimes reads the per-core lines of /proc/stat: busy and total ticks
// of each core (busy counts everything but idle and iowait, so softirq
// work done on a core for another process shows too).
func coreTimes() (busy, total []uint64) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return nil, nil
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 9 || !strings.HasPrefix(f[0], "cpu") || f[0] == "cpu" {
			continue
		}
		var t, idle uint64
		for i, v := range f[1:] {
			n, _ := strconv.ParseUint(v, 10, 64)
			if i >= 8 { // guest times are already in user and nice
				break
			}
			t += n
			if i == 3 || i == 4 {
				idle += n
			}
		}
		busy = append(busy, t-idle)
		total = append(total, t)
	}
	return busy, total
}

// Meter is a sample of the server's and this process's CPU time, every
// core's and every other process's, taken at both ends of a measured
// interval.
type Meter struct {
	pid             int
	server, client  time.Duration
	serverOK        bool
	at              time.Time
	coreBusy, coreT []uint64
	others          time.Duration
}

// Sample takes a Meter now; pid is the server's (0: none).
func Sample(pid int) Meter {
	m := Meter{pid: pid, client: selfCPU(), at: time.Now()}
	m.coreBusy, m.coreT = coreTimes()
	m.others = othersCPU(pid)
	if pid > 0 {
		if d, err := CPU(pid); err == nil {
			m.server, m.serverOK = d, true
		}
	}
	return m
}

// ServerCPU is the server's CPU time between two samples; ok is false when
// it is unknown.
func ServerCPU(a, b Meter) (d time.Duration, ok bool) {
	if !a.serverOK || !b.serverOK {
		return 0, false
	}
	return b.server - a.server, true
}

// CPUPercent returns server and client CPU use between two samples, in
// percent of one core; server is -1 when unknown.
func CPUPercent(a, b Meter) (server, client float64) {
	wall := b.at.Sub(a.at).Seconds()
	if wall <= 0 {
		return -1, 0
	}
	client = 100 * (b.client - a.client).Seconds() / wall
	server = -1
	if d, ok := ServerCPU(a, b); ok {
		server = 100 * d.Seconds() / wall
	}
	return server, client
}

// CoreBusyPercent is each core's busy share between two samples.
func CoreBusyPercent(a, b Meter) []float64 {
	if len(a.coreT) != len(b.coreT) {
		return nil
	}
	out := make([]float64, len(a.coreT))
	for i := range a.coreT {
		if dt := b.coreT[i] - a.coreT[i]; dt > 0 {
			out[i] = math.Round(1000*float64(b.coreBusy[i]-a.coreBusy[i])/float64(dt)) / 10
		}
	}
	return out
}

// OthersPercent is the CPU used by other processes between two samples,
// in percent of one core.
func OthersPercent(a, b Meter) float64 {
	wall := b.at.Sub(a.at).Seconds()
	if wall <= 0 || b.others < a.others {
		return 0
	}
	return math.Round(1000*(b.others-a.others).Seconds()/wall) / 10
}

// Command wsload is a WebSocket (and plain TCP) echo load generator for
// benchmarking volley and its peers.
//
//	go run ./bench/cmd/wsload -addr 127.0.0.1:9001 -conns 100 -inflight 1 -size 32
//	go run ./bench/cmd/wsload -mode raw -addr 127.0.0.1:9002 -conns 16 -inflight 16 -size 16384
//	go run ./bench/cmd/wsload -idle -conns 19000 -sources 20 -pid $SERVER_PID
//
// Every connection does a real opening handshake, then keeps -inflight
// messages of -size bytes in flight (pipelined): each echo that comes back
// is checked byte for byte (the payload carries the connection's pattern and
// a sequence number) and replaced by a new message. Frames are built once
// per connection, masked in advance; only the sequence characters are
// patched per message. Reads are parsed in place; nothing is allocated per
// message.
//
// A progress line goes to stderr every second; the last line on stdout is
// a JSON object with the results (with -json, the only line). -pid names
// the server process: its CPU time over the measured interval (and, with
// -idle, its VmRSS growth per connection) is reported.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/volley-ws/volley/bench/internal/hist"
	"github.com/volley-ws/volley/bench/internal/proc"
	"github.com/volley-ws/volley/bench/internal/wsdial"
)

type config struct {
	addr     string
	path     string
	conns    int
	inflight int
	size     int
	msgType  string
	duration time.Duration
	warmup   time.Duration
	drain    time.Duration
	mode     string
	sources  int
	idle     bool
	pid      int
	json     bool
	engine   string
	loops    int
	spin     int
	dialers  int
	label    string
	cpuprof  string
	timeout  time.Duration
}

func parseFlags(args []string) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("wsload", flag.ContinueOnError)
	fs.StringVar(&c.addr, "addr", "127.0.0.1:9001", "server address host:port")
	fs.StringVar(&c.path, "path", "/echo", "WebSocket request path")
	fs.IntVar(&c.conns, "conns", 100, "connections")
	fs.IntVar(&c.inflight, "inflight", 1, "messages in flight per connection (pipelined)")
	fs.IntVar(&c.size, "size", 32, "message payload bytes")
	fs.StringVar(&c.msgType, "type", "binary", "message type: text or binary")
	fs.DurationVar(&c.duration, "duration", 5*time.Second, "measured interval (with -idle: how long the connections are held)")
	fs.DurationVar(&c.warmup, "warmup", time.Second, "traffic before the measured interval (not counted)")
	fs.DurationVar(&c.drain, "drain", 2*time.Second, "after the measured interval: time allowed for the echoes in flight and the closing handshakes")
	fs.StringVar(&c.mode, "mode", "ws", "ws (WebSocket) or raw (plain TCP echo, no framing)")
	fs.IntVar(&c.sources, "sources", 1, "spread connections over source addresses 127.0.0.1..127.0.0.K")
	fs.BoolVar(&c.idle, "idle", false, "open -conns connections, handshake, hold them for -duration, report memory")
	fs.IntVar(&c.pid, "pid", 0, "server process ID: report its CPU time (and, with -idle, VmRSS per connection)")
	fs.BoolVar(&c.json, "json", false, "print only the JSON result line on stdout")
	fs.StringVar(&c.engine, "engine", "epoll", "epoll (own event loops) or goroutine (one goroutine per connection, blocking I/O)")
	fs.IntVar(&c.loops, "loops", 0, "event loops of the epoll engine (0: GOMAXPROCS)")
	fs.IntVar(&c.spin, "spin", 30, "epoll engine: empty non-blocking polls before the loop sleeps")
	fs.IntVar(&c.dialers, "dialers", 64, "connections being opened at once")
	fs.StringVar(&c.label, "label", "", "free text copied into the JSON result")
	fs.StringVar(&c.cpuprof, "cpuprofile", "", "write wsload's own CPU profile to this file")
	fs.DurationVar(&c.timeout, "timeout", 10*time.Second, "connect + handshake timeout per connection")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	switch {
	case fs.NArg() > 0:
		return nil, fmt.Errorf("unexpected arguments: %q", fs.Args())
	case c.conns < 1:
		return nil, errors.New("-conns must be at least 1")
	case c.inflight < 1:
		return nil, errors.New("-inflight must be at least 1")
	case c.size < 1:
		return nil, errors.New("-size must be at least 1")
	case c.msgType != "text" && c.msgType != "binary":
		return nil, errors.New("-type must be text or binary")
	case c.mode != "ws" && c.mode != "raw":
		return nil, errors.New("-mode must be ws or raw")
	case c.engine != "epoll" && c.engine != "goroutine":
		return nil, errors.New("-engine must be epoll or goroutine")
	case c.sources < 1 || c.sources > 254:
		return nil, errors.New("-sources must be 1..254")
	case c.duration <= 0 || c.warmup < 0 || c.drain < 0:
		return nil, errors.New("-duration must be positive, -warmup and -drain not negative")
	}
	if c.loops <= 0 {
		c.loops = runtime.GOMAXPROCS(0)
	}
	c.dialers = max(c.dialers, 1)
	return c, nil
}

type result struct {
	Label    string `json:"label,omitempty"`
	Kind     string `json:"kind"` // "load" or "idle"
	Mode     string `json:"mode"`
	Engine   string `json:"engine,omitempty"`
	Addr     string `json:"addr"`
	Path     string `json:"path,omitempty"`
	Conns    int    `json:"conns"`
	Inflight int    `json:"inflight,omitempty"`
	Size     int    `json:"size,omitempty"`
	Type     string `json:"type,omitempty"`
	Sources  int    `json:"sources"`
	GoMaxP   int    `json:"gomaxprocs"`

	Opened     int            `json:"opened"`
	DialErrors int            `json:"dial_errors"`
	OpenSecs   float64        `json:"open_s"`
	OpenPerSec float64        `json:"open_per_s"`
	OpenLatUS  hist.Latencies `json:"open_lat_us"`

	// load
	Seconds        float64         `json:"seconds,omitempty"`
	Msgs           uint64          `json:"msgs,omitempty"`
	MsgsPerSec     float64         `json:"msgs_per_s,omitempty"`
	MBPerSec       float64         `json:"mb_per_s,omitempty"`
	LatUS          *hist.Latencies `json:"lat_us,omitempty"`
	Min1sMsgsPerS  float64         `json:"min_1s_msgs_per_s,omitempty"`
	StalledSeconds int             `json:"stalled_seconds"`
	Mismatches     uint64          `json:"mismatches"`
	ConnErrors     uint64          `json:"conn_errors"`
	Lost           uint64          `json:"lost"`
	ClosedOK       uint64          `json:"closed_ok"`
	CloseTimeouts  uint64          `json:"close_timeouts"`
	Errors         uint64          `json:"errors"`

	// idle
	RSSBefore    int64   `json:"rss_before,omitempty"`
	RSSOpen      int64   `json:"rss_open,omitempty"`
	RSSEnd       int64   `json:"rss_end,omitempty"`
	BytesPerConn float64 `json:"bytes_per_conn,omitempty"`
	StillOpen    int     `json:"still_open,omitempty"`

	ServerPID    int       `json:"server_pid,omitempty"`
	ServerCPUPct float64   `json:"server_cpu_pct"`
	ClientCPUPct float64   `json:"client_cpu_pct"`
	CoreBusyPct  []float64 `json:"core_busy_pct"`  // every core, whoever used it
	OthersCPUPct float64   `json:"others_cpu_pct"` // every other userland process
}

func main() {
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "wsload:", err)
		os.Exit(2)
	}
	if cfg.cpuprof != "" {
		f, err := os.Create(cfg.cpuprof)
		if err != nil {
			fmt.Fprintln(os.Stderr, "wsload:", err)
			os.Exit(2)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "wsload:", err)
			os.Exit(2)
		}
	}
	var res *result
	if cfg.idle {
		res, err = runIdle(cfg)
	} else {
		res, err = runLoad(cfg)
	}
	if cfg.cpuprof != "" {
		pprof.StopCPUProfile()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "wsload:", err)
		if res == nil || res.Opened == 0 {
			os.Exit(1)
		}
	}
	res.Errors = res.Mismatches + res.ConnErrors + res.Lost + uint64(res.DialErrors)
	if !cfg.json {
		printHuman(res)
	}
	b, _ := json.Marshal(res)
	fmt.Println(string(b)) // what was measured, even for a run cut short
	switch {
	case err != nil:
		os.Exit(1)
	case res.Errors > 0:
		os.Exit(3)
	}
}

func newResult(cfg *config, kind string) *result {
	r := &result{
		Label: cfg.label, Kind: kind, Mode: cfg.mode, Addr: cfg.addr, Conns: cfg.conns,
		Sources: cfg.sources, GoMaxP: runtime.GOMAXPROCS(0), ServerPID: cfg.pid,
	}
	if cfg.mode == "ws" {
		r.Path = cfg.path
	}
	return r
}

func interrupted() <-chan struct{} {
	ch := make(chan struct{})
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-sig
		fmt.Fprintln(os.Stderr, "wsload: interrupted, finishing early")
		close(ch)
	}()
	return ch
}

func runLoad(cfg *config) (*result, error) {
	res := newResult(cfg, "load")
	res.Engine, res.Inflight, res.Size = cfg.engine, cfg.inflight, cfg.size
	if cfg.mode == "ws" {
		res.Type = cfg.msgType
	}
	stop := interrupted()
	d := wsdial.New(cfg.addr, cfg.path, cfg.mode == "raw", cfg.sources, cfg.timeout)
	op := wsdial.OpenAll(d, cfg.conns, cfg.dialers, stop, "wsload")
	all, allRests, took := op.Conns, op.Rests, op.Elapsed
	res.DialErrors, res.OpenSecs = op.Failed, took.Seconds()
	res.OpenLatUS = op.Lat.Latencies()
	var conns []*net.TCPConn
	var rests [][]byte
	var streams []*stream
	opcode := byte(opBinary)
	if cfg.msgType == "text" {
		opcode = opText
	}
	for i, c := range all {
		if c == nil {
			continue
		}
		if f := cfg.size * cfg.inflight; f > 64<<10 {
			// room for everything in flight: our writes can never wait on
			// a server that is itself waiting for us to read
			_ = c.SetWriteBuffer(2 * f)
		}
		var mask [4]byte
		for mask == [4]byte{} {
			v := rand.Uint32()
			mask = [4]byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)}
		}
		conns = append(conns, c)
		rests = append(rests, allRests[i])
		streams = append(streams, newStream(i, cfg.mode == "raw", opcode, cfg.size, cfg.inflight, mask, nil))
	}
	res.Opened = len(conns)
	res.OpenPerSec = float64(len(conns)) / took.Seconds()
	if len(conns) == 0 {
		return res, errors.New("no connection could be opened")
	}

	ld := &load{cfg: cfg, base: time.Now()}
	var eng engine
	if cfg.engine == "epoll" {
		e, err := newEpollEngine(ld, cfg.loops, conns, rests, streams)
		if err != nil {
			return res, err
		}
		eng = e
	} else {
		eng = newGoroutineEngine(ld, conns, rests, streams)
	}
	eng.start()
	finished := make(chan struct{})
	go func() { eng.wait(); close(finished) }()

	// phases, with a progress line every second
	begin := time.Now()
	var lastMsgs uint64
	lastAt := begin
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	progress := func(name string) float64 {
		msgs, mism := eng.totals()
		now := time.Now()
		rate := float64(msgs-lastMsgs) / now.Sub(lastAt).Seconds()
		fmt.Fprintf(os.Stderr, "[%5.1fs %-7s] %10.0f msgs/s %8.2f MB/s  conn errors %d  mismatches %d\n",
			now.Sub(begin).Seconds(), name, rate, rate*float64(cfg.size)/1e6, ld.connErrs.Load(), mism)
		lastMsgs, lastAt = msgs, now
		return rate
	}
	wait := func(d time.Duration, name string, each func(rate float64)) bool {
		end := time.Now().Add(d)
		for {
			left := time.Until(end)
			if left <= 0 {
				return true
			}
			select {
			case <-stop:
				return false
			case <-finished:
				return false
			case <-tick.C:
				r := progress(name)
				if each != nil {
					each(r)
				}
			case <-time.After(left):
				return true
			}
		}
	}

	ok := wait(cfg.warmup, "warmup", nil)
	var startMsgs uint64
	var c0 proc.Meter
	if ok {
		c0 = proc.Sample(cfg.pid)
		startMsgs, _ = eng.totals()
		ld.phase.Store(phaseMeasure)
		lastMsgs, lastAt = startMsgs, time.Now()
		min1s := math.Inf(1)
		measuredStart := time.Now()
		ok = wait(cfg.duration, "measure", func(rate float64) {
			min1s = math.Min(min1s, rate)
			if rate == 0 {
				res.StalledSeconds++
			}
		})
		ld.phase.Store(phaseDrain)
		c1 := proc.Sample(cfg.pid)
		endMsgs, _ := eng.totals()
		elapsed := time.Since(measuredStart)
		res.Seconds = elapsed.Seconds()
		res.Msgs = endMsgs - startMsgs
		res.MsgsPerSec = float64(res.Msgs) / elapsed.Seconds()
		res.MBPerSec = res.MsgsPerSec * float64(cfg.size) / 1e6
		if !math.IsInf(min1s, 1) {
			res.Min1sMsgsPerS = math.Round(min1s)
		}
		res.ServerCPUPct, res.ClientCPUPct = proc.CPUPercent(c0, c1)
		res.CoreBusyPct = proc.CoreBusyPercent(c0, c1)
		res.OthersCPUPct = proc.OthersPercent(c0, c1)
	}
	ld.phase.Store(phaseDrain)
	eng.drainStarted()
	select {
	case <-finished:
	case <-time.After(cfg.drain):
	case <-stop:
	}
	ld.phase.Store(phaseStop)
	eng.drainStarted()
	<-finished
	allMsgs, allMism := eng.totals()
	if !ok {
		res.Msgs = allMsgs
	}
	// mismatches anywhere in the run count, not only in the measured part
	res.Mismatches = allMism
	lat := eng.histogram().Latencies()
	res.LatUS = &lat
	res.ConnErrors = ld.connErrs.Load()
	res.Lost = ld.lost.Load()
	res.ClosedOK = ld.closedOK.Load()
	res.CloseTimeouts = ld.closeTO.Load()
	if !ok {
		return res, errors.New("run cut short (interrupted, or every connection failed)")
	}
	return res, nil
}

func runIdle(cfg *config) (*result, error) {
	res := newResult(cfg, "idle")
	stop := interrupted()
	var rssBefore int64
	if cfg.pid > 0 {
		var err error
		if rssBefore, err = proc.RSS(cfg.pid); err != nil {
			return res, err
		}
	}
	c0 := proc.Sample(cfg.pid)
	d := wsdial.New(cfg.addr, cfg.path, cfg.mode == "raw", cfg.sources, cfg.timeout)
	op := wsdial.OpenAll(d, cfg.conns, cfg.dialers, stop, "wsload")
	conns, took := op.Conns, op.Elapsed
	c1 := proc.Sample(cfg.pid)
	res.ServerCPUPct, res.ClientCPUPct = proc.CPUPercent(c0, c1)
	res.CoreBusyPct = proc.CoreBusyPercent(c0, c1)
	res.OthersCPUPct = proc.OthersPercent(c0, c1)
	res.DialErrors, res.OpenSecs = op.Failed, took.Seconds()
	res.OpenLatUS = op.Lat.Latencies()
	for _, c := range conns {
		if c != nil {
			res.Opened++
		}
	}
	res.OpenPerSec = float64(res.Opened) / took.Seconds()
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
	}()
	sampleRSS := func() int64 {
		if cfg.pid <= 0 {
			return 0
		}
		v, err := proc.RSS(cfg.pid)
		if err != nil {
			fmt.Fprintln(os.Stderr, "wsload:", err)
			return 0
		}
		return v
	}
	// let the server settle after the burst of handshakes
	select {
	case <-time.After(time.Second):
	case <-stop:
	}
	res.RSSBefore = rssBefore
	res.RSSOpen = sampleRSS()
	start := time.Now()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	end := time.After(cfg.duration)
hold:
	for {
		select {
		case <-stop:
			break hold
		case <-end:
			break hold
		case <-tick.C:
			rss := sampleRSS()
			fmt.Fprintf(os.Stderr, "[%5.1fs hold] %d connections open, server VmRSS %.1f MiB\n",
				time.Since(start).Seconds(), res.Opened, float64(rss)/(1<<20))
		}
	}
	res.RSSEnd = sampleRSS()
	res.Seconds = time.Since(start).Seconds()
	// still open? a peek that would block (or finds data) means the server
	// kept the connection
	for _, c := range conns {
		if c != nil && stillOpen(c) {
			res.StillOpen++
		}
	}
	if cfg.pid > 0 && res.Opened > 0 {
		res.BytesPerConn = math.Round(float64(res.RSSEnd-res.RSSBefore) / float64(res.Opened))
	}
	if res.StillOpen < res.Opened {
		res.ConnErrors = uint64(res.Opened - res.StillOpen)
	}
	return res, nil
}

func printHuman(r *result) {
	if r.Kind == "idle" {
		fmt.Printf("idle: %d/%d connections open (%d failed) in %.2fs (%.0f/s, handshake p50 %.0fµs p99 %.0fµs); %d still open after %.1fs\n",
			r.Opened, r.Conns, r.DialErrors, r.OpenSecs, r.OpenPerSec, r.OpenLatUS.P50, r.OpenLatUS.P99, r.StillOpen, r.Seconds)
		if r.ServerPID > 0 {
			fmt.Printf("server VmRSS %.1f MiB before, %.1f MiB open, %.1f MiB at the end: %.0f bytes per connection\n",
				float64(r.RSSBefore)/(1<<20), float64(r.RSSOpen)/(1<<20), float64(r.RSSEnd)/(1<<20), r.BytesPerConn)
		}
		return
	}
	fmt.Printf("%s: %d conns x %d in flight, %d B %s, %.2fs measured\n", r.Mode, r.Opened, r.Inflight, r.Size, r.Type, r.Seconds)
	fmt.Printf("  %.0f msgs/s  %.2f MB/s  (%d msgs)\n", r.MsgsPerSec, r.MBPerSec, r.Msgs)
	if r.LatUS != nil {
		fmt.Printf("  latency µs: p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f\n", r.LatUS.P50, r.LatUS.P90, r.LatUS.P99, r.LatUS.P999, r.LatUS.Max)
	}
	fmt.Printf("  errors %d (mismatches %d, connection errors %d, lost %d, dial errors %d); closed cleanly %d, close timeouts %d; stalled seconds %d\n",
		r.Errors, r.Mismatches, r.ConnErrors, r.Lost, r.DialErrors, r.ClosedOK, r.CloseTimeouts, r.StalledSeconds)
	if r.ServerCPUPct >= 0 && r.ServerPID > 0 {
		fmt.Printf("  CPU: server %.1f%%, wsload %.1f%% (of one core)\n", r.ServerCPUPct, r.ClientCPUPct)
	} else {
		fmt.Printf("  CPU: wsload %.1f%% (of one core)\n", r.ClientCPUPct)
	}
	fmt.Printf("  cores busy (any process) %%: %v; other processes used %.1f%% of a core\n", r.CoreBusyPct, r.OthersCPUPct)
}

// stillOpen peeks at the socket without blocking: nothing to read yet, or
// data waiting, means the server has not closed it.
func stillOpen(c *net.TCPConn) bool {
	rc, err := c.SyscallConn()
	if err != nil {
		return false
	}
	open := false
	_ = rc.Control(func(fd uintptr) {
		var b [1]byte
		n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		open = n > 0 || errors.Is(err, syscall.EAGAIN)
	})
	return open
}

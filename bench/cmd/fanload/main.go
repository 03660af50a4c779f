// Command fanload is the fan-out (broadcast) load generator of the volley
// benchmarks.
//
//	go run ./bench/cmd/fanload -addr 127.0.0.1:9001 -subs 1000 -pubs 1 -window 16
//	go run ./bench/cmd/fanload -subs 10000 -pubs 1 -rate 50 -sources 4 -pid "$SERVER_PID"
//	go run ./bench/cmd/fanload report bench/results/<run>-fanout/runs.jsonl
//
// The server under test subscribes every connection to one topic when it
// opens; every message a connection sends is published to that topic and
// delivered to every connection, the sender included, unchanged and with
// its type. fanload opens -subs connections (real opening handshakes);
// -pubs of them publish, each keeping -window publishes in flight (a
// publish is acknowledged when its publisher receives its own copy) or,
// with -rate, publishing at a fixed rate (at most -window in flight).
// Every delivery is checked: its type, length and bytes, and its
// publisher's order (the payload carries the publisher's id, a sequence
// number and the send time); a publish that never reaches a subscriber
// by the end of the drain is lost.
//
// It reports deliveries per second, the delivery latency (publish to
// receipt, every subscriber), the server's CPU per delivery and its
// VmRSS (-pid): before the connections, with them open and idle, and
// during the traffic. A progress line goes to stderr every second; the
// last line on stdout is the JSON result (with -json, the only line).
// Exit status 3 when anything was wrong (lost, reordered or corrupt
// deliveries, failed connections).
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
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/volley-ws/volley/bench/internal/hist"
	"github.com/volley-ws/volley/bench/internal/proc"
	"github.com/volley-ws/volley/bench/internal/wsdial"
	"github.com/volley-ws/volley/bench/internal/wsframe"
)

type config struct {
	addr     string
	path     string
	subs     int
	pubs     int
	window   int
	rate     float64
	size     int
	msgType  string
	duration time.Duration
	warmup   time.Duration
	drain    time.Duration
	drainMax time.Duration
	closeTO  time.Duration
	settle   time.Duration
	sources  int
	pid      int
	json     bool
	loops    int
	spin     int
	dialers  int
	label    string
	cpuprof  string
	timeout  time.Duration
}

func parseFlags(args []string) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("fanload", flag.ContinueOnError)
	fs.StringVar(&c.addr, "addr", "127.0.0.1:9001", "server address host:port (loopback only); several, comma-separated, take the connections in turn (connection 0, the first publisher, on the first)")
	fs.StringVar(&c.path, "path", "/fanout", "WebSocket request path")
	fs.IntVar(&c.subs, "subs", 1000, "connections (subscribers, publishers included)")
	fs.IntVar(&c.pubs, "pubs", 1, "connections that publish")
	fs.IntVar(&c.window, "window", 16, "publishes in flight per publisher")
	fs.Float64Var(&c.rate, "rate", 0, "publishes per second per publisher (0: as fast as the window allows)")
	fs.IntVar(&c.size, "size", 128, "message payload bytes")
	fs.StringVar(&c.msgType, "type", "binary", "message type: text or binary")
	fs.DurationVar(&c.duration, "duration", 5*time.Second, "measured interval")
	fs.DurationVar(&c.warmup, "warmup", time.Second, "traffic before the measured interval (not counted)")
	fs.DurationVar(&c.drain, "drain", 3*time.Second, "after the measured interval, the deliveries still queued are awaited until every publish reached every connection, or nothing arrived for this long ...")
	fs.DurationVar(&c.drainMax, "drain-max", time.Minute, "... or this long in all (what has not arrived then is lost)")
	fs.DurationVar(&c.closeTO, "close-timeout", 3*time.Second, "time allowed for the closing handshakes")
	fs.DurationVar(&c.settle, "settle", time.Second, "pause between opening the connections and the first publish (every handler subscribed; the idle VmRSS is sampled at its end)")
	fs.IntVar(&c.sources, "sources", 1, "spread connections over source addresses 127.0.0.1..127.0.0.K")
	fs.IntVar(&c.pid, "pid", 0, "server process ID: report its CPU time and VmRSS")
	fs.BoolVar(&c.json, "json", false, "print only the JSON result line on stdout")
	fs.IntVar(&c.loops, "loops", 0, "event loops (0: GOMAXPROCS)")
	fs.IntVar(&c.spin, "spin", 30, "empty non-blocking polls before a loop sleeps")
	fs.IntVar(&c.dialers, "dialers", 64, "connections being opened at once")
	fs.StringVar(&c.label, "label", "", "free text copied into the JSON result")
	fs.StringVar(&c.cpuprof, "cpuprofile", "", "write fanload's own CPU profile to this file")
	fs.DurationVar(&c.timeout, "timeout", 10*time.Second, "connect + handshake timeout per connection")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	for a := range strings.SplitSeq(c.addr, ",") {
		host, _, err := net.SplitHostPort(a)
		switch {
		case err != nil:
			return nil, fmt.Errorf("-addr: %w", err)
		case !isLoopback(host):
			return nil, fmt.Errorf("-addr %s: only loopback addresses are accepted", a)
		}
	}
	switch {
	case fs.NArg() > 0:
		return nil, fmt.Errorf("unexpected arguments: %q", fs.Args())
	case c.subs < 1 || c.pubs < 1 || c.pubs > c.subs:
		return nil, errors.New("-subs and -pubs must be at least 1, -pubs at most -subs")
	case c.pubs > maxPubs:
		return nil, fmt.Errorf("-pubs must be at most %d", maxPubs)
	case c.window < 1:
		return nil, errors.New("-window must be at least 1")
	case c.rate < 0 || math.IsInf(c.rate, 0) || math.IsNaN(c.rate):
		return nil, errors.New("-rate must be a positive number of publishes per second, or 0")
	case c.size < headChars || c.size > 1<<20:
		return nil, fmt.Errorf("-size must be %d to %d bytes", headChars, 1<<20)
	case c.msgType != "text" && c.msgType != "binary":
		return nil, errors.New("-type must be text or binary")
	case c.sources < 1 || c.sources > 254:
		return nil, errors.New("-sources must be 1..254")
	case c.duration <= 0 || c.warmup < 0 || c.drain < 0 || c.drainMax < 0 || c.closeTO < 0 || c.settle < 0:
		return nil, errors.New("-duration must be positive; -warmup, -drain, -drain-max, -close-timeout and -settle not negative")
	case c.duration+c.warmup+c.drainMax+c.closeTO+c.settle > time.Hour:
		return nil, errors.New("a run is bounded to an hour")
	}
	if c.loops <= 0 {
		c.loops = runtime.GOMAXPROCS(0)
	}
	c.dialers = max(c.dialers, 1)
	return c, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// interval is the time between two publishes of one publisher, in ns (0:
// closed loop).
func (c *config) interval() int64 {
	if c.rate == 0 {
		return 0
	}
	return max(1, int64(float64(time.Second)/c.rate))
}

type result struct {
	Label   string  `json:"label,omitempty"`
	Kind    string  `json:"kind"` // "fanout"
	Addr    string  `json:"addr"`
	Path    string  `json:"path"`
	Subs    int     `json:"subs"`
	Pubs    int     `json:"pubs"`
	Window  int     `json:"window"`
	Rate    float64 `json:"rate"` // publishes/s per publisher; 0: closed loop
	Size    int     `json:"size"`
	Type    string  `json:"type"`
	Sources int     `json:"sources"`
	GoMaxP  int     `json:"gomaxprocs"`

	Opened     int            `json:"opened"`
	DialErrors int            `json:"dial_errors"`
	OpenSecs   float64        `json:"open_s"`
	OpenLatUS  hist.Latencies `json:"open_lat_us"`

	Seconds          float64         `json:"seconds"`
	Deliveries       uint64          `json:"deliveries"` // in the measured interval
	DeliveriesPerSec float64         `json:"deliveries_per_s"`
	PublishesPerSec  float64         `json:"publishes_per_s"` // deliveries/s over the connections
	LatUS            *hist.Latencies `json:"lat_us,omitempty"`
	Min1sDeliveries  float64         `json:"min_1s_deliveries_per_s"`
	StalledSeconds   int             `json:"stalled_seconds"`

	Published     uint64  `json:"published"` // whole run
	Delivered     uint64  `json:"delivered"` // whole run
	LatePublishes uint64  `json:"late_publishes"`
	DrainSecs     float64 `json:"drain_s"`     // time the deliveries still queued after the measured interval took
	Lost          uint64  `json:"lost"`        // never delivered: the drain ended with nothing arriving, or skipped
	Undelivered   uint64  `json:"undelivered"` // still queued when -drain-max ended the drain (not an error)
	OrderErrors   uint64  `json:"order_errors"`
	Corrupt       uint64  `json:"corrupt"`
	ConnErrors    uint64  `json:"conn_errors"`
	ClosedOK      uint64  `json:"closed_ok"`
	CloseTimeouts uint64  `json:"close_timeouts"`
	Errors        uint64  `json:"errors"`

	ServerPID      int       `json:"server_pid,omitempty"`
	RSSBefore      int64     `json:"rss_before,omitempty"` // before the connections
	RSSIdle        int64     `json:"rss_idle,omitempty"`   // connections open, no traffic yet
	RSSEnd         int64     `json:"rss_end,omitempty"`    // end of the measured interval
	RSSMax         int64     `json:"rss_max,omitempty"`    // highest sample, every second of the traffic
	IdleConnBytes  float64   `json:"idle_bytes_per_conn,omitempty"`
	ServerCPUPct   float64   `json:"server_cpu_pct"`
	ServerNsPerDel float64   `json:"server_ns_per_delivery,omitempty"`
	ClientCPUPct   float64   `json:"client_cpu_pct"`
	CoreBusyPct    []float64 `json:"core_busy_pct"`
	OthersCPUPct   float64   `json:"others_cpu_pct"`
}

// load is what every loop of a run shares.
type load struct {
	cfg   *config
	plan  *plan
	base  time.Time
	phase atomic.Int32

	connErrs atomic.Uint64 // connections that failed
	closedOK atomic.Uint64 // closing handshakes completed
	closeTO  atomic.Uint64 // close frames the server never answered

	logMu  sync.Mutex
	logged int
}

// now is monotonic nanoseconds since the run started.
func (l *load) now() int64 { return int64(time.Since(l.base)) }

// logf prints the first few connection errors to stderr.
func (l *load) logf(format string, args ...any) {
	l.logMu.Lock()
	defer l.logMu.Unlock()
	l.logged++
	if l.logged <= 10 {
		fmt.Fprintf(os.Stderr, "fanload: "+format+"\n", args...)
	} else if l.logged == 11 {
		fmt.Fprintln(os.Stderr, "fanload: (further connection errors not shown)")
	}
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "report" {
		os.Exit(reportMain(os.Args[2:]))
	}
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "fanload:", err)
		os.Exit(2)
	}
	if cfg.cpuprof != "" {
		f, err := os.Create(cfg.cpuprof)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "fanload:", err)
			os.Exit(2)
		}
	}
	res, err := run(cfg)
	if cfg.cpuprof != "" {
		pprof.StopCPUProfile()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "fanload:", err)
		if res == nil || res.Opened == 0 {
			os.Exit(1)
		}
	}
	res.Errors = res.Lost + res.OrderErrors + res.Corrupt + res.ConnErrors + uint64(res.DialErrors)
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

func interrupted() <-chan struct{} {
	ch := make(chan struct{})
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-sig
		fmt.Fprintln(os.Stderr, "fanload: interrupted, finishing early")
		close(ch)
	}()
	return ch
}

// rssOf is the server's VmRSS, 0 without -pid or when it cannot be read.
func rssOf(pid int) int64 {
	if pid <= 0 {
		return 0
	}
	v, err := proc.RSS(pid)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fanload:", err)
		return 0
	}
	return v
}

// sleep waits d; false if stop came first.
func sleep(d time.Duration, stop <-chan struct{}) bool {
	select {
	case <-time.After(d):
		return true
	case <-stop:
		return false
	}
}

func run(cfg *config) (*result, error) {
	res := &result{
		Label: cfg.label, Kind: "fanout", Addr: cfg.addr, Path: cfg.path, Subs: cfg.subs,
		Pubs: cfg.pubs, Window: cfg.window, Rate: cfg.rate, Size: cfg.size, Type: cfg.msgType,
		Sources: cfg.sources, GoMaxP: runtime.GOMAXPROCS(0), ServerPID: cfg.pid,
	}
	stop := interrupted()
	res.RSSBefore = rssOf(cfg.pid)
	d := wsdial.New(cfg.addr, cfg.path, false, cfg.sources, cfg.timeout)
	op := wsdial.OpenAll(d, cfg.subs, cfg.dialers, stop, "fanload")
	res.DialErrors, res.OpenSecs = op.Failed, op.Elapsed.Seconds()
	res.OpenLatUS = op.Lat.Latencies()
	opcode := byte(wsframe.OpBinary)
	if cfg.msgType == "text" {
		opcode = wsframe.OpText
	}
	pl := newPlan(cfg.pubs, cfg.size, opcode, cfg.window, cfg.interval())
	var conns []*net.TCPConn
	var rests [][]byte
	var fcs []*fconn
	for i, c := range op.Conns {
		if c == nil {
			continue
		}
		var mask [4]byte
		for mask == [4]byte{} {
			v := rand.Uint32()
			mask = [4]byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)}
		}
		conns = append(conns, c)
		rests = append(rests, op.Rests[i])
		fcs = append(fcs, newConn(i, pl, mask))
	}
	res.Opened = len(conns)
	if len(conns) < cfg.pubs {
		for _, c := range conns {
			c.Close()
		}
		return res, fmt.Errorf("%d connections opened, fewer than the %d publishers", len(conns), cfg.pubs)
	}
	// publishers spread evenly over the connections (and so the loops)
	for k := range cfg.pubs {
		fcs[k*len(fcs)/cfg.pubs].makePublisher(k)
	}
	ok := sleep(cfg.settle, stop)
	res.RSSIdle = rssOf(cfg.pid)
	if res.RSSIdle > 0 && res.RSSBefore > 0 {
		res.IdleConnBytes = math.Round(float64(res.RSSIdle-res.RSSBefore) / float64(res.Opened))
	}

	ld := &load{cfg: cfg, plan: pl}
	eng, err := newEngine(ld, cfg.loops, conns, rests, fcs)
	if err != nil {
		return res, err
	}
	ld.base = time.Now()
	eng.start()
	finished := make(chan struct{})
	go func() { eng.wait(); close(finished) }()

	begin := time.Now()
	var lastDel uint64
	lastAt := begin
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	progress := func(name string) float64 {
		del, _, pub, ack, bad := eng.counts()
		now := time.Now()
		rate := float64(del-lastDel) / now.Sub(lastAt).Seconds()
		fmt.Fprintf(os.Stderr, "[%5.1fs %-7s] %10.0f deliveries/s  published %d acked %d  conn errors %d  bad deliveries %d\n",
			now.Sub(begin).Seconds(), name, rate, pub, ack, ld.connErrs.Load(), bad)
		lastDel, lastAt = del, now
		return rate
	}
	// wait runs the phase name for d, calling each after every progress
	// line; until, when set, ends it early. False if stopped or every
	// connection is gone.
	wait := func(d time.Duration, name string, each func(rate float64), until func() bool) bool {
		end := time.Now().Add(d)
		poll := time.NewTicker(10 * time.Millisecond)
		defer poll.Stop()
		for {
			left := time.Until(end)
			if left <= 0 || (until != nil && until()) {
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
			case <-poll.C:
			case <-time.After(left):
				return true
			}
		}
	}

	ok = ok && wait(cfg.warmup, "warmup", nil, nil)
	if ok {
		c0 := proc.Sample(cfg.pid)
		ld.phase.Store(phaseMeasure)
		_, startMeasured, _, _, _ := eng.counts()
		lastDel, _, _, _, _ = eng.counts()
		lastAt = time.Now()
		min1s := math.Inf(1)
		measuredStart := time.Now()
		ok = wait(cfg.duration, "measure", func(rate float64) {
			min1s = math.Min(min1s, rate)
			if rate == 0 {
				res.StalledSeconds++
			}
			res.RSSMax = max(res.RSSMax, rssOf(cfg.pid))
		}, nil)
		ld.phase.Store(phaseDrain)
		c1 := proc.Sample(cfg.pid)
		elapsed := time.Since(measuredStart)
		res.RSSEnd = rssOf(cfg.pid)
		res.RSSMax = max(res.RSSMax, res.RSSEnd)
		_, endMeasured, _, _, _ := eng.counts()
		res.Seconds = elapsed.Seconds()
		// the loops count what they read while they saw the measure phase
		res.Deliveries = max(endMeasured, startMeasured) - startMeasured
		res.DeliveriesPerSec = float64(res.Deliveries) / elapsed.Seconds()
		res.PublishesPerSec = res.DeliveriesPerSec / float64(res.Opened)
		if !math.IsInf(min1s, 1) {
			res.Min1sDeliveries = math.Round(min1s)
		}
		res.ServerCPUPct, res.ClientCPUPct = proc.CPUPercent(c0, c1)
		if d, ok := proc.ServerCPU(c0, c1); ok && res.Deliveries > 0 {
			res.ServerNsPerDel = math.Round(10*float64(d.Nanoseconds())/float64(res.Deliveries)) / 10
		}
		res.CoreBusyPct = proc.CoreBusyPercent(c0, c1)
		res.OthersCPUPct = proc.OthersPercent(c0, c1)
	}
	// drain: until every publish reached every connection, nothing
	// arrived for -drain, or -drain-max is over
	ld.phase.Store(phaseDrain)
	drainStart := time.Now()
	opened := uint64(len(conns))
	lastCount, lastMove := uint64(0), time.Now()
	all := false
	wait(cfg.drainMax, "drain", nil, func() bool {
		del, _, pub, _, _ := eng.counts()
		if del != lastCount {
			lastCount, lastMove = del, time.Now()
		}
		all = del >= pub*opened
		return all || time.Since(lastMove) >= cfg.drain
	})
	// cut short while deliveries still came: what is missing was still
	// queued (undelivered), not known to be lost
	cut := !all && time.Since(lastMove) < cfg.drain
	res.DrainSecs = time.Since(drainStart).Seconds()
	ld.phase.Store(phaseClose)
	select {
	case <-finished:
	case <-time.After(cfg.closeTO):
	case <-stop:
	}
	ld.phase.Store(phaseStop)
	<-finished

	t := eng.tally()
	sent := make([]uint64, cfg.pubs)
	for _, fc := range fcs {
		if fc.pub != nil {
			sent[fc.pub.id] = fc.pub.sent
		}
	}
	var missing uint64
	for _, fc := range fcs {
		missing += fc.missing(sent)
	}
	if cut {
		res.Undelivered = missing
	} else {
		res.Lost = missing
	}
	res.Lost += t.gaps
	res.Published, res.Delivered, res.LatePublishes = t.published, t.deliveries, t.late
	res.OrderErrors, res.Corrupt = t.order, t.corrupt
	lat := t.hist.Latencies()
	res.LatUS = &lat
	res.ConnErrors = ld.connErrs.Load()
	res.ClosedOK = ld.closedOK.Load()
	res.CloseTimeouts = ld.closeTO.Load()
	if !ok {
		return res, errors.New("run cut short (interrupted, or every connection failed)")
	}
	return res, nil
}

func printHuman(r *result) {
	mode := fmt.Sprintf("window %d", r.Window)
	if r.Rate > 0 {
		mode = fmt.Sprintf("%.0f publishes/s each (window %d)", r.Rate, r.Window)
	}
	fmt.Printf("fan-out: %d/%d subscribers open (%d failed) in %.2fs, %d publishers, %s, %d B %s, %.2fs measured\n",
		r.Opened, r.Subs, r.DialErrors, r.OpenSecs, r.Pubs, mode, r.Size, r.Type, r.Seconds)
	fmt.Printf("  %.0f deliveries/s (%d), %.1f publishes/s; lowest second %.0f deliveries/s\n",
		r.DeliveriesPerSec, r.Deliveries, r.PublishesPerSec, r.Min1sDeliveries)
	if r.LatUS != nil {
		fmt.Printf("  delivery latency µs: p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f\n",
			r.LatUS.P50, r.LatUS.P90, r.LatUS.P99, r.LatUS.P999, r.LatUS.Max)
	}
	fmt.Printf("  errors %d (lost %d, order %d, corrupt %d, connection errors %d, dial errors %d); published %d, delivered %d, undelivered after a %.1fs drain %d, late publishes %d; closed cleanly %d, close timeouts %d\n",
		r.Errors, r.Lost, r.OrderErrors, r.Corrupt, r.ConnErrors, r.DialErrors, r.Published, r.Delivered, r.DrainSecs, r.Undelivered, r.LatePublishes, r.ClosedOK, r.CloseTimeouts)
	if r.ServerPID > 0 {
		mib := func(b int64) float64 { return float64(b) / (1 << 20) }
		fmt.Printf("  server: CPU %.1f%% of a core, %.0f ns per delivery; VmRSS %.1f MiB before, %.1f MiB idle (%.0f B per connection), %.1f MiB at most during the traffic, %.1f MiB at its end\n",
			r.ServerCPUPct, r.ServerNsPerDel, mib(r.RSSBefore), mib(r.RSSIdle), r.IdleConnBytes, mib(r.RSSMax), mib(r.RSSEnd))
	}
	fmt.Printf("  fanload CPU %.1f%%; cores busy (any process) %%: %v; other processes used %.1f%% of a core\n",
		r.ClientCPUPct, r.CoreBusyPct, r.OthersCPUPct)
}

// Command hostile runs hostile WebSocket clients against a server on the
// loopback interface and reports what that costs the server: its VmRSS
// before, at peak (sampled every -sample) and after (a -settle after the
// clients close), and how every connection ended (closed by the server,
// after how long, with which close code or HTTP status; or still open).
//
//	go run ./bench/cmd/hostile pingflood -addr 127.0.0.1:8080 -pid $PID
//	go run ./bench/cmd/hostile -scenario noread -conns 100 -duration 5s -pid $PID
//	go run ./bench/cmd/hostile report runs.jsonl     # Markdown tables of many runs
//
// Scenarios (defaults in brackets; every count and duration is a flag):
//
//	pingflood   -conns [1] connections send 125-byte masked pings as fast as
//	            they can for -duration [10s] and never read
//	pipeline    one keep-alive HTTP/1.1 connection writes "GET -path [/nope]"
//	            requests back to back for -duration [10s] and never reads
//	noread      -conns [100] connections send binary messages of -size
//	            [4096] at -rate [0: as fast as possible] per connection for
//	            -duration [10s] and never read the echoes
//	failnoread  -conns [10] connections send -fill [8 MiB] of -size [16384]
//	            messages unread (or until the server stops reading), then a
//	            frame with RSV2 set (close 1002 expected), and never read:
//	            how long until the server closes each connection, within
//	            -wait [40s]
//	bomb        -conns [200] connections negotiate permessage-deflate
//	            (-offer) and, all at once, send one compressed message that
//	            inflates to -inflate [2 x -limit] zeros, past the server's
//	            -limit [16 MiB]; they read the answers for -wait [20s]. With
//	            -under the message inflates to -limit - 4 KiB, and the
//	            connections then stay idle for -settle: rss_idle shows what
//	            the server keeps per connection after a large message
//	halfclose   -runs [20] connections, one after another, each send one
//	            text message (or, with -close, a close frame) and shut down
//	            their write side: how many got the echo (the close reply)
//	            back within -wait [2s]
//	many        -conns [1000] connections at once, a third each flooding
//	            pings, sending 4 KiB and sending 64 KiB messages, none
//	            reading, for -duration [10s]
//
// Clients that never read stop after their -duration; then, to learn close
// codes, every connection is read (-drain, at most -drain-bytes each) and
// closed; a close frame first read then is reported as such ("open, close
// 1002 read afterwards"), since reading may be what let the server go on.
// The server closing a connection is seen without reading it: its side of
// the socket loses its descriptor in /proc/net/tcp (or /proc/net/tcp6), or
// a write fails. The same files tell whether the server was still reading:
// bytes sent that it had not read at the end (the client's send queue
// plus the server's receive queue). Times to close are counted from when
// a connection started its hostile part (for failnoread, from the failing
// frame; for bomb, from the bomb).
//
// Everything is bounded: connections, buffers (shared, pre-built frames),
// a deadline on every read and write, and a watchdog over the whole run.
// The server must be on a loopback address. If its VmRSS passes
// -max-rss-mb, the clients stop at once (exit status 4).
//
// The last line on stdout is one JSON object; a human line comes before it
// (with -json it goes to stderr). Exit status: 0 done, 1 could not run,
// 2 usage, 4 RSS limit reached, 5 the server process died.
package main

import (
	"github.com/volley-ws/volley/bench/internal/proc"

	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

var scenarios = []string{"pingflood", "pipeline", "noread", "failnoread", "bomb", "halfclose", "many"}

const defaultOffer = "permessage-deflate; client_no_context_takeover; server_no_context_takeover"

type config struct {
	scenario   string
	addr       string
	path       string
	pid        int
	label      string
	json       bool
	conns      int
	duration   time.Duration
	size       int
	rate       int
	fill       int
	wait       time.Duration
	runs       int
	closeFrame bool
	under      bool
	limit      int64
	inflate    int64
	level      int
	offer      string
	settle     time.Duration
	sample     time.Duration
	drain      time.Duration
	drainBytes int64
	timeout    time.Duration
	stall      time.Duration
	dialers    int
	maxRSSMB   int64
}

// parseFlags reads the command line: the scenario comes first (or as
// -scenario); flags left unset get the scenario's defaults.
func parseFlags(args []string) (*config, error) {
	c := &config{}
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		c.scenario, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet("hostile", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: hostile SCENARIO [flags]   (%s)\n       hostile report FILE.jsonl...\n", strings.Join(scenarios, ", "))
		fs.PrintDefaults()
	}
	sc := fs.String("scenario", "", "scenario, if not given as the first argument")
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8080", "server address (a loopback IP and a port)")
	fs.StringVar(&c.path, "path", "/echo", "request path (pipeline: /nope)")
	fs.IntVar(&c.pid, "pid", 0, "server process ID: its VmRSS and CPU time are reported")
	fs.StringVar(&c.label, "label", "", "free text copied into the JSON result (the server's name)")
	fs.BoolVar(&c.json, "json", false, "print only the JSON line on stdout (the human line goes to stderr)")
	fs.IntVar(&c.conns, "conns", 0, "connections (default per scenario: pingflood 1, noread 100, failnoread 10, bomb 200, many 1000)")
	fs.DurationVar(&c.duration, "duration", 10*time.Second, "how long the senders send (pingflood, pipeline, noread, many)")
	fs.IntVar(&c.size, "size", 0, "message payload bytes (noread 4096, failnoread 16384)")
	fs.IntVar(&c.rate, "rate", 0, "noread: messages per second per connection (0: as fast as the server takes them)")
	fs.IntVar(&c.fill, "fill", 8<<20, "failnoread: bytes of messages each connection sends before the failing frame")
	fs.DurationVar(&c.wait, "wait", 0, "bounded wait for the server's reaction (failnoread 40s, bomb 20s, halfclose 2s per run)")
	fs.IntVar(&c.runs, "runs", 20, "halfclose: connections, one after another")
	fs.BoolVar(&c.closeFrame, "close", false, "halfclose: send a close frame (1000) instead of a text message")
	fs.BoolVar(&c.under, "under", false, "bomb: inflate to just under -limit, then stay idle for -settle")
	fs.Int64Var(&c.limit, "limit", 16<<20, "bomb: the server's message size limit, bytes")
	fs.Int64Var(&c.inflate, "inflate", 0, "bomb: bytes the message inflates to (default 2 x -limit; with -under, -limit - 4096)")
	fs.IntVar(&c.level, "level", 9, "bomb: compress/flate level of the bomb")
	fs.StringVar(&c.offer, "offer", defaultOffer, "bomb: the Sec-WebSocket-Extensions offer")
	fs.DurationVar(&c.settle, "settle", 3*time.Second, "wait before measuring VmRSS after the clients close (bomb -under: also before rss_idle)")
	fs.DurationVar(&c.sample, "sample", 100*time.Millisecond, "VmRSS and /proc/net/tcp sampling interval")
	fs.DurationVar(&c.drain, "drain", 3*time.Second, "after sending: time allowed to read what the server sent (close codes, responses)")
	fs.Int64Var(&c.drainBytes, "drain-bytes", 64<<20, "after sending: most bytes read per connection")
	fs.DurationVar(&c.timeout, "timeout", 5*time.Second, "connect + handshake timeout per connection")
	fs.DurationVar(&c.stall, "stall", 250*time.Millisecond, "deadline of each write: a write that hits it counts as a stall and is retried")
	fs.IntVar(&c.dialers, "dialers", 100, "connections being opened at once")
	fs.Int64Var(&c.maxRSSMB, "max-rss-mb", 8192, "stop the clients if the server's VmRSS passes this many MiB (0: no limit)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if *sc != "" {
		if c.scenario != "" && c.scenario != *sc {
			return nil, fmt.Errorf("scenario given twice: %s and -scenario %s", c.scenario, *sc)
		}
		c.scenario = *sc
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if !slices.Contains(scenarios, c.scenario) {
		return nil, fmt.Errorf("scenario must be one of %s (got %q)", strings.Join(scenarios, ", "), c.scenario)
	}
	def := func(name string, apply func()) {
		if !set[name] {
			apply()
		}
	}
	switch c.scenario {
	case "pingflood":
		def("conns", func() { c.conns = 1 })
	case "pipeline":
		def("conns", func() { c.conns = 1 })
		def("path", func() { c.path = "/nope" })
	case "noread":
		def("conns", func() { c.conns = 100 })
		def("size", func() { c.size = 4096 })
	case "failnoread":
		def("conns", func() { c.conns = 10 })
		def("size", func() { c.size = 16384 })
		def("wait", func() { c.wait = 40 * time.Second })
	case "bomb":
		def("conns", func() { c.conns = 200 })
		def("wait", func() { c.wait = 20 * time.Second })
		def("inflate", func() {
			c.inflate = 2 * c.limit
			if c.under {
				c.inflate = c.limit - 4096
			}
		})
	case "halfclose":
		c.conns = c.runs
		def("wait", func() { c.wait = 2 * time.Second })
	case "many":
		def("conns", func() { c.conns = 1000 })
	}
	if err := checkLoopback(c.addr); err != nil {
		return nil, err
	}
	switch {
	case c.conns < 1 || c.conns > 5000:
		return nil, errors.New("-conns must be 1..5000 (-runs for halfclose)")
	case c.duration <= 0 || c.duration > 10*time.Minute:
		return nil, errors.New("-duration must be positive and at most 10m")
	case c.wait < 0 || c.wait > 10*time.Minute:
		return nil, errors.New("-wait must be 0..10m")
	case c.size < 0 || c.size > 16<<20:
		return nil, errors.New("-size must be 0..16 MiB")
	case c.rate < 0 || c.fill < 0 || c.drainBytes < 0:
		return nil, errors.New("-rate, -fill and -drain-bytes must not be negative")
	case c.scenario == "bomb" && (c.inflate <= 0 || c.inflate > 1<<30):
		return nil, errors.New("-inflate must be 1..1 GiB")
	case c.level < 1 || c.level > 9:
		return nil, errors.New("-level must be 1..9")
	case c.settle < 0 || c.drain < 0 || c.sample <= 0 || c.timeout <= 0 || c.stall <= 0:
		return nil, errors.New("-settle and -drain must not be negative; -sample, -timeout and -stall must be positive")
	}
	c.dialers = max(c.dialers, 1)
	return c, nil
}

// checkLoopback refuses any target but a loopback IP.
func checkLoopback(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("-addr: %w", err)
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("-addr must be a loopback IP (127.0.0.1, [::1]), not %q", host)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
		return fmt.Errorf("-addr: bad port %q", port)
	}
	return nil
}

// quantiles in milliseconds
type quantiles struct {
	N   int     `json:"n"`
	P50 float64 `json:"p50"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

func quantilesOf(ds []time.Duration) *quantiles {
	if len(ds) == 0 {
		return nil
	}
	slices.Sort(ds)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()/100) / 10 }
	at := func(q float64) time.Duration {
		i := int(q*float64(len(ds))+0.999999) - 1
		return ds[min(max(i, 0), len(ds)-1)]
	}
	return &quantiles{N: len(ds), P50: ms(at(0.50)), P99: ms(at(0.99)), Max: ms(ds[len(ds)-1])}
}

type result struct {
	Label    string  `json:"label,omitempty"`
	Scenario string  `json:"scenario"` // with its variant: bomb-under, halfclose-close
	Addr     string  `json:"addr"`
	Path     string  `json:"path"`
	PID      int     `json:"server_pid,omitempty"`
	Conns    int     `json:"conns"`
	Duration float64 `json:"duration_s,omitempty"`
	Size     int     `json:"size,omitempty"`
	Rate     int     `json:"rate,omitempty"`
	Fill     int     `json:"fill,omitempty"`
	Wait     float64 `json:"wait_s,omitempty"`
	Inflate  int64   `json:"inflate,omitempty"`
	Wire     int     `json:"bomb_wire_bytes,omitempty"` // compressed payload of the bomb
	Error    string  `json:"error,omitempty"`

	Opened     int            `json:"opened"`
	Failed     map[string]int `json:"failed,omitempty"` // dial/handshake errors, refusals by status
	Deflate    int            `json:"deflate_accepted,omitempty"`
	Seconds    float64        `json:"seconds"` // the whole scenario, clients only
	FirstError string         `json:"first_error,omitempty"`

	RSSBefore   int64   `json:"rss_before"`
	RSSPeak     int64   `json:"rss_peak"`
	RSSIdle     int64   `json:"rss_idle,omitempty"` // bomb -under: idle connections after -settle
	RSSAfter    int64   `json:"rss_after"`
	RSSSamples  int64   `json:"rss_samples"`
	RSSTripped  bool    `json:"rss_limit_reached"`
	ServerCPU   float64 `json:"server_cpu_s"`
	ServerAlive bool    `json:"server_alive"`
	TCPPolls    int64   `json:"tcp_polls"` // /proc/net/tcp reads that watched the connections

	BytesSent   int64 `json:"bytes_sent"`
	Sent        int64 `json:"sent"`         // frames or requests, whole ones
	WriteStalls int64 `json:"write_stalls"` // writes that waited a whole -stall

	ServerClosed int            `json:"server_closed"`      // by the end of the scenario, before the drain
	StillOpen    int            `json:"still_open"`         // at the end of the scenario
	CloseMS      *quantiles     `json:"close_ms,omitempty"` // time to close, closed ones
	CloseCodes   map[string]int `json:"close_codes,omitempty"`
	Ends         map[string]int `json:"ends"`
	ReadEnds     map[string]int `json:"read_ends,omitempty"` // how the last read of each connection ended
	Echoes       int64          `json:"echoes"`
	EchoBytes    int64          `json:"echo_bytes"`
	Responses    int64          `json:"responses,omitempty"` // pipeline: HTTP responses read in the drain
	HTTPStatus   map[string]int `json:"http_status,omitempty"`
	NotReading   int            `json:"not_reading"`              // open connections with bytes the server had not read, at the end
	Unread       int64          `json:"unread_bytes"`             // those bytes (client send queue + server receive queue)
	BadSent      int            `json:"bad_frame_sent,omitempty"` // failnoread: failing frames written
	BadRead      int            `json:"bad_frame_read,omitempty"` // failnoread: ... and read by the server (nothing left unread)
	Got          int            `json:"got,omitempty"`            // halfclose: echoes (close replies) received
	Notes        []string       `json:"notes,omitempty"`
}

// hconn is one client connection and what happened to it.
type hconn struct {
	id     int
	kind   string // many: ping, small, big
	c      *net.TCPConn
	port   int
	status int    // handshake answer: 101, a refusal, 0 for none
	failed string // "dial error", "handshake error", "refused NNN"
	err    string
	ext    string
	rest   []byte // bytes the server sent after its handshake answer
	ref    time.Time

	sent     atomic.Int64
	stalls   atomic.Int64
	closedAt atomic.Int64 // UnixNano the server was first seen closing
	seenOpen atomic.Bool  // the tracker saw the server's socket with an inode
	unread   atomic.Int64 // bytes sent that the server had not read, last seen
	suspect  time.Time    // tracker (under its lock): first poll that saw it closed

	unreadEnd int64 // unread when the scenario ended

	// written only by the goroutine reading the connection
	code      int    // close code seen, 0 none
	readEnd   string // how reading ended: eof, reset, timeout, limit, close, echo, ...
	echoes    int64
	echoBytes int64
	badSent   bool
	http      *httpScanner
}

// markClosed records t as when the server closed the connection if it is
// the earliest sign of it.
func (h *hconn) markClosed(t time.Time) {
	v := t.UnixNano()
	for {
		old := h.closedAt.Load()
		if (old != 0 && old <= v) || h.closedAt.CompareAndSwap(old, v) {
			return
		}
	}
}

// run is one scenario in progress.
type run struct {
	cfg   *config
	res   *result
	stop  chan struct{} // closed on interrupt or when the RSS limit is reached
	once  sync.Once
	rss   *rssSampler
	trk   *tracker
	start time.Time

	connsMu sync.Mutex
	conns   []*hconn // every connection opened (or tried)
}

func (r *run) halt() { r.once.Do(func() { close(r.stop) }) }

func (r *run) stopped() bool {
	select {
	case <-r.stop:
		return true
	default:
		return false
	}
}

// sleep waits d, or less if the run is stopped; it reports whether it
// waited the whole d.
func (r *run) sleep(d time.Duration) bool {
	if d <= 0 {
		return !r.stopped()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-r.stop:
		return false
	case <-t.C:
		return true
	}
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "report" {
		if err := report(os.Stdout, os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "hostile:", err)
			os.Exit(1)
		}
		return
	}
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "hostile:", err)
		os.Exit(2)
	}
	res, err := execute(cfg)
	if err != nil {
		res.Error = err.Error()
		fmt.Fprintln(os.Stderr, "hostile:", err)
	}
	line := human(res)
	b, _ := json.Marshal(res)
	if cfg.json {
		fmt.Fprintln(os.Stderr, line)
	} else {
		fmt.Println(line)
	}
	fmt.Println(string(b))
	switch {
	case err != nil:
		os.Exit(1)
	case res.RSSTripped:
		os.Exit(4)
	case cfg.pid > 0 && !res.ServerAlive:
		os.Exit(5)
	}
}

// bound is the longest a scenario may take before the watchdog ends it.
func bound(c *config) time.Duration {
	d := 2*c.timeout + c.drain + 2*c.settle + 60*time.Second
	d += time.Duration(c.conns/c.dialers+1) * c.timeout // opening, at worst
	switch c.scenario {
	case "halfclose":
		d += time.Duration(c.runs) * (c.timeout + c.wait + time.Second)
	case "failnoread":
		d += c.wait + 10*time.Second + time.Duration(c.fill/(1<<20))*time.Second
	case "bomb":
		d += c.wait + 10*time.Second
	default:
		d += c.duration
	}
	return d
}

func execute(cfg *config) (*result, error) {
	res := &result{
		Label: cfg.label, Scenario: cfg.scenario, Addr: cfg.addr, Path: cfg.path, PID: cfg.pid,
		Conns: cfg.conns, Ends: map[string]int{},
	}
	switch cfg.scenario {
	case "pingflood", "pipeline", "many":
		res.Duration = cfg.duration.Seconds()
	case "noread":
		res.Duration, res.Size, res.Rate = cfg.duration.Seconds(), cfg.size, cfg.rate
	case "failnoread":
		res.Size, res.Fill, res.Wait = cfg.size, cfg.fill, cfg.wait.Seconds()
	case "bomb":
		res.Wait, res.Inflate = cfg.wait.Seconds(), cfg.inflate
		if cfg.under {
			res.Scenario = "bomb-under"
		}
	case "halfclose":
		res.Wait = cfg.wait.Seconds()
		if cfg.closeFrame {
			res.Scenario = "halfclose-close"
		}
	}
	if cfg.pid > 0 && !alive(cfg.pid) {
		return res, fmt.Errorf("no process %d", cfg.pid)
	}
	r := &run{cfg: cfg, res: res, stop: make(chan struct{})}

	// watchdog: whatever happens, the process ends
	limit := bound(cfg)
	wd := time.AfterFunc(limit, func() {
		fmt.Fprintf(os.Stderr, "hostile: watchdog: still running after %v, exiting\n", limit)
		os.Exit(1)
	})
	defer wd.Stop()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sig)
	go func() {
		if _, ok := <-sig; ok {
			fmt.Fprintln(os.Stderr, "hostile: interrupted, stopping")
			r.halt()
		}
	}()

	var cpu0 time.Duration
	if cfg.pid > 0 {
		cpu0, _ = proc.CPU(cfg.pid)
	}
	maxRSS := cfg.maxRSSMB << 20
	r.rss = startRSS(cfg.pid, cfg.sample, maxRSS, func() {
		fmt.Fprintf(os.Stderr, "hostile: server VmRSS passed %d MiB: stopping the clients\n", cfg.maxRSSMB)
		r.halt()
	})
	res.RSSBefore = r.rss.last.Load()
	_, port, _ := net.SplitHostPort(cfg.addr)
	sp, _ := strconv.Atoi(port)
	r.trk = startTracker(sp, cfg.sample)
	r.start = time.Now()
	progressDone := r.progress()

	var err error
	switch cfg.scenario {
	case "pingflood":
		err = r.pingflood()
	case "pipeline":
		err = r.pipeline()
	case "noread":
		err = r.noread()
	case "failnoread":
		err = r.failnoread()
	case "bomb":
		err = r.bomb()
	case "halfclose":
		err = r.halfclose()
	case "many":
		err = r.many()
	}
	r.closeAll()
	r.trk.stop()
	res.TCPPolls = r.trk.polls.Load()
	if r.trk.failed.Load() {
		res.Notes = append(res.Notes, "/proc/net/tcp unreadable: server closes seen only through writes and reads")
	}
	res.Seconds = time.Since(r.start).Seconds()
	close(progressDone)
	if cfg.pid > 0 && !r.rss.tripped.Load() {
		time.Sleep(cfg.settle)
	}
	res.RSSAfter = r.rss.sample()
	r.rss.stop()
	res.RSSPeak = r.rss.peak.Load()
	res.RSSSamples = r.rss.samples.Load()
	res.RSSTripped = r.rss.tripped.Load()
	if cfg.pid > 0 {
		res.ServerAlive = alive(cfg.pid)
		if cpu1, e := proc.CPU(cfg.pid); e == nil {
			res.ServerCPU = float64((cpu1 - cpu0).Milliseconds()) / 1000
		}
		if !res.ServerAlive {
			res.Notes = append(res.Notes, "server process gone at the end")
		}
	}
	if res.RSSTripped {
		res.Notes = append(res.Notes, fmt.Sprintf("clients stopped early: server VmRSS passed %d MiB", cfg.maxRSSMB))
	}
	return res, err
}

// progress prints a line a second on stderr until done is closed.
func (r *run) progress() chan struct{} {
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				var sent int64
				closed, n := 0, 0
				for _, h := range r.snapshot() {
					n++
					sent += h.sent.Load()
					if h.closedAt.Load() != 0 {
						closed++
					}
				}
				fmt.Fprintf(os.Stderr, "[%5.1fs %s] server rss %s (peak %s), sent %s, closed by server %d/%d\n",
					time.Since(r.start).Seconds(), r.res.Scenario, mib(r.rss.last.Load()), mib(r.rss.peak.Load()),
					mb(sent), closed, n)
			}
		}
	}()
	return done
}

func (r *run) snapshot() []*hconn {
	r.connsMu.Lock()
	defer r.connsMu.Unlock()
	return slices.Clone(r.conns)
}

func (r *run) addConns(hs []*hconn) {
	r.connsMu.Lock()
	r.conns = append(r.conns, hs...)
	r.connsMu.Unlock()
}

// open opens n connections, cfg.dialers at a time (raw: TCP only; ext:
// the extensions offered), registers the ones open with the tracker and
// returns them all (failed ones too, with h.failed set and no socket).
// onOpen, if not nil, is called for each one opened as soon as it is.
func (r *run) open(n int, raw bool, ext string, onOpen func(h *hconn)) []*hconn {
	hs := make([]*hconn, n)
	for i := range hs {
		hs[i] = &hconn{id: i}
	}
	r.addConns(hs)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(r.cfg.dialers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				h := hs[i]
				if r.stopped() {
					h.failed = "not opened (stopped)"
					continue
				}
				dialOne(h, r.cfg.addr, r.cfg.path, ext, raw, r.cfg.timeout)
				if h.failed != "" && h.c != nil {
					h.c.Close()
					h.c = nil
				}
				if h.c != nil {
					r.trk.add(h)
					if onOpen != nil {
						onOpen(h)
					}
				}
			}
		}()
	}
	wg.Wait()
	for _, h := range hs {
		if h.c != nil {
			r.res.Opened++
		} else if r.res.FirstError == "" && h.err != "" {
			r.res.FirstError = h.err
		}
	}
	return hs
}

// live is the connections that are open.
func live(hs []*hconn) []*hconn {
	var out []*hconn
	for _, h := range hs {
		if h.c != nil {
			out = append(out, h)
		}
	}
	return out
}

// closeAll closes every client connection (forgetting it first, so that
// the tracker does not take the client's close for the server's).
func (r *run) closeAll() {
	for _, h := range r.snapshot() {
		if h.c != nil {
			r.trk.forget(h)
			h.c.Close()
		}
	}
}

// summarize fills in the outcome of every connection. Closes seen by freeze
// (the end of the scenario) count as the server's.
func (r *run) summarize(hs []*hconn, freeze time.Time) {
	res := r.res
	var times []time.Duration
	codes := map[string]int{}
	for _, h := range hs {
		res.BytesSent += h.sent.Load()
		res.WriteStalls += h.stalls.Load()
		res.Echoes += h.echoes
		res.EchoBytes += h.echoBytes
		if h.code != 0 {
			codes[strconv.Itoa(h.code)]++
		}
		if h.readEnd != "" {
			if res.ReadEnds == nil {
				res.ReadEnds = map[string]int{}
			}
			res.ReadEnds[h.readEnd]++
		}
		if h.failed != "" {
			if res.Failed == nil {
				res.Failed = map[string]int{}
			}
			res.Failed[h.failed]++
			res.Ends[h.failed]++
			continue
		}
		// failnoread: a connection whose failing frame could not be
		// written says so
		suffix := ""
		if r.cfg.scenario == "failnoread" && !h.badSent {
			suffix = " (failing frame not delivered)"
		}
		if h.badSent && h.unreadEnd == 0 && h.seenOpen.Load() {
			res.BadRead++
		}
		if at := h.closedAt.Load(); at != 0 && at <= freeze.UnixNano() {
			res.ServerClosed++
			if !h.ref.IsZero() {
				times = append(times, max(time.Unix(0, at).Sub(h.ref), 0))
			}
			switch {
			case h.code != 0:
				res.Ends["closed "+strconv.Itoa(h.code)+suffix]++
			case h.readEnd == "reset":
				res.Ends["reset"+suffix]++
			default:
				res.Ends["closed, no close frame"+suffix]++
			}
			continue
		}
		res.StillOpen++
		if u := h.unreadEnd; u > 0 {
			res.NotReading++
			res.Unread += u
		}
		switch {
		case h.code != 0:
			res.Ends["open, close "+strconv.Itoa(h.code)+" read afterwards"+suffix]++
		case h.readEnd == "echo":
			res.Ends["echoed, open"+suffix]++
		default:
			res.Ends["open"+suffix]++
		}
	}
	if len(codes) > 0 {
		res.CloseCodes = codes
	}
	res.CloseMS = quantilesOf(times)
}

// human is the one-line summary.
func human(res *result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s", res.Scenario)
	if res.Label != "" {
		fmt.Fprintf(&b, " [%s]", res.Label)
	}
	fmt.Fprintf(&b, ": server rss before %s, peak %s", mib(res.RSSBefore), mib(res.RSSPeak))
	if res.RSSIdle > 0 {
		fmt.Fprintf(&b, ", idle %s", mib(res.RSSIdle))
	}
	fmt.Fprintf(&b, ", after %s; cpu %.2fs;", mib(res.RSSAfter), res.ServerCPU)
	fmt.Fprintf(&b, " %d/%d opened, sent %s (%d), closed by server %d", res.Opened, res.Conns, mb(res.BytesSent), res.Sent, res.ServerClosed)
	if q := res.CloseMS; q != nil {
		fmt.Fprintf(&b, " (p50 %s, p99 %s, max %s)", ms(q.P50), ms(q.P99), ms(q.Max))
	}
	fmt.Fprintf(&b, "; ends: %s", endsString(res.Ends))
	if res.Echoes > 0 {
		fmt.Fprintf(&b, "; echoes %d", res.Echoes)
	}
	if len(res.HTTPStatus) > 0 {
		fmt.Fprintf(&b, "; responses %d %s", res.Responses, countsString(res.HTTPStatus))
	}
	if res.Scenario == "halfclose" || res.Scenario == "halfclose-close" {
		fmt.Fprintf(&b, "; got back %d/%d", res.Got, res.Conns)
	}
	for _, n := range res.Notes {
		fmt.Fprintf(&b, "; %s", n)
	}
	if res.Error != "" {
		fmt.Fprintf(&b, "; error: %s", res.Error)
	}
	return b.String()
}

// byCount returns m's keys by decreasing count, then by name.
func byCount(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	return keys
}

// countsString is "key×n, ..." by decreasing count.
func countsString(m map[string]int) string {
	parts := make([]string, 0, len(m))
	for _, k := range byCount(m) {
		parts = append(parts, fmt.Sprintf("%s×%d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

// endsString is countsString with the count first: "95 closed 1008, 5 open".
func endsString(m map[string]int) string {
	if len(m) == 0 {
		return "-"
	}
	parts := make([]string, 0, len(m))
	for _, k := range byCount(m) {
		parts = append(parts, fmt.Sprintf("%d %s", m[k], k))
	}
	return strings.Join(parts, ", ")
}

func mib(b int64) string {
	if b <= 0 {
		return "?"
	}
	return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
}

func mb(b int64) string {
	switch {
	case b >= 1e9:
		return fmt.Sprintf("%.2f GB", float64(b)/1e9)
	case b >= 1e6:
		return fmt.Sprintf("%.1f MB", float64(b)/1e6)
	case b >= 1e3:
		return fmt.Sprintf("%.1f kB", float64(b)/1e3)
	}
	return fmt.Sprintf("%d B", b)
}

func ms(v float64) string {
	if v >= 1000 {
		return fmt.Sprintf("%.2fs", v/1000)
	}
	return fmt.Sprintf("%.0fms", v)
}

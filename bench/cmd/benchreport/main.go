// Command benchreport turns the runs.jsonl written by bench/scripts/bench.sh
// into Markdown tables: medians per server per scenario, ratios against
// the gnet raw echo and gorilla/websocket, which side was CPU-bound, and
// for idle connections the server's memory per connection.
//
//	go run ./bench/cmd/benchreport bench/results/20260101-120000/runs.jsonl
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
)

// run is one line of runs.jsonl.
type run struct {
	Scenario    string  `json:"scenario"`
	Server      string  `json:"server"`
	Round       int     `json:"round"`
	Cap         string  `json:"cap"`
	RC          int     `json:"rc"`
	ServerAlive bool    `json:"server_alive"`
	Result      *result `json:"result"`
}

type latencies struct {
	P50, P90, P99, P999, Max float64
}

// result is the part of wsload's JSON line used here.
type result struct {
	Kind           string    `json:"kind"`
	Conns          int       `json:"conns"`
	Inflight       int       `json:"inflight"`
	Size           int       `json:"size"`
	Type           string    `json:"type"`
	Mode           string    `json:"mode"`
	Opened         int       `json:"opened"`
	DialErrors     int       `json:"dial_errors"`
	OpenPerSec     float64   `json:"open_per_s"`
	MsgsPerSec     float64   `json:"msgs_per_s"`
	MBPerSec       float64   `json:"mb_per_s"`
	Lat            latencies `json:"lat_us"`
	StalledSeconds int       `json:"stalled_seconds"`
	Errors         uint64    `json:"errors"`
	Mismatches     uint64    `json:"mismatches"`
	ConnErrors     uint64    `json:"conn_errors"`
	Lost           uint64    `json:"lost"`
	CloseTimeouts  uint64    `json:"close_timeouts"`
	RSSBefore      int64     `json:"rss_before"`
	RSSEnd         int64     `json:"rss_end"`
	BytesPerConn   float64   `json:"bytes_per_conn"`
	StillOpen      int       `json:"still_open"`
	ServerCPU      float64   `json:"server_cpu_pct"`
	ClientCPU      float64   `json:"client_cpu_pct"`
	CoreBusy       []float64 `json:"core_busy_pct"`
	Others         float64   `json:"others_cpu_pct"`
}

func main() {
	serverCore := flag.Int("server-core", 0, "core the servers were pinned to")
	loadCore := flag.Int("load-core", 1, "core wsload was pinned to")
	noise := flag.Float64("noise", 10, "flag runs where other processes used more than this % of a core")
	perRun := flag.Bool("runs", true, "append a table of every run")
	flag.Parse()
	var runs []run
	for _, path := range flag.Args() {
		rs, err := readRuns(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, "benchreport:", err)
			os.Exit(1)
		}
		runs = append(runs, rs...)
	}
	if len(runs) == 0 {
		fmt.Fprintln(os.Stderr, "benchreport: no runs (usage: benchreport runs.jsonl ...)")
		os.Exit(2)
	}
	r := reporter{w: os.Stdout, serverCore: *serverCore, loadCore: *loadCore, noise: *noise}
	r.report(runs, *perRun)
}

func readRuns(path string) ([]run, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var runs []run
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var r run
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		runs = append(runs, r)
	}
	return runs, sc.Err()
}

type reporter struct {
	w                    io.Writer
	serverCore, loadCore int
	noise                float64
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// group is every run of one server in one scenario.
type group struct {
	server string
	runs   []run
	ok     []*result // runs with a result
}

func (g *group) med(f func(*result) float64) float64 {
	var v []float64
	for _, r := range g.ok {
		v = append(v, f(r))
	}
	return median(v)
}

func groups(runs []run, scenario string) []*group {
	var out []*group
	idx := map[string]*group{}
	for _, r := range runs {
		if r.Scenario != scenario {
			continue
		}
		g := idx[r.Server]
		if g == nil {
			g = &group{server: r.Server}
			idx[r.Server] = g
			out = append(out, g)
		}
		g.runs = append(g.runs, r)
		if r.Result != nil {
			g.ok = append(g.ok, r.Result)
		}
	}
	return out
}

func num(v float64, prec int) string {
	if math.IsNaN(v) {
		return "–"
	}
	return strconv.FormatFloat(v, 'f', prec, 64)
}

func core(r *result, i int) float64 {
	if i < len(r.CoreBusy) {
		return r.CoreBusy[i]
	}
	return math.NaN()
}

func (rp *reporter) report(runs []run, perRun bool) {
	var scenarios []string
	for _, r := range runs {
		if !slices.Contains(scenarios, r.Scenario) {
			scenarios = append(scenarios, r.Scenario)
		}
	}
	for _, sc := range scenarios {
		gs := groups(runs, sc)
		kind := ""
		for _, g := range gs {
			if len(g.ok) > 0 {
				kind = g.ok[0].Kind
			}
		}
		if kind == "idle" {
			rp.idleTable(sc, gs)
		} else {
			rp.loadTable(sc, gs)
		}
	}
	if perRun {
		rp.runsTable(runs)
	}
}

func describe(gs []*group) (string, string) {
	for _, g := range gs {
		for _, r := range g.runs {
			if r.Result != nil {
				x := r.Result
				capNote := "uncapped"
				if r.Cap != "" {
					capNote = "server capped at " + r.Cap + " core"
				}
				if x.Kind == "idle" {
					return fmt.Sprintf("%d idle connections", x.Conns), capNote
				}
				return fmt.Sprintf("%d connections × %d in flight × %d B %s", x.Conns, x.Inflight, x.Size, x.Type), capNote
			}
		}
	}
	return "no results", ""
}

func (rp *reporter) loadTable(sc string, gs []*group) {
	what, capNote := describe(gs)
	fmt.Fprintf(rp.w, "\n### Scenario %s: %s (%s)\n\n", sc, what, capNote)
	var gnet, gorilla float64 = math.NaN(), math.NaN()
	for _, g := range gs {
		m := g.med(func(r *result) float64 { return r.MsgsPerSec })
		switch g.server {
		case "gnet":
			gnet = m
		case "gorilla":
			gorilla = m
		}
	}
	fmt.Fprintf(rp.w, "| server | msgs/s (median) | min–max | MB/s | p50 µs | p99 µs | vs gnet raw | vs gorilla | server CPU %% | core %d busy %% | wsload CPU %% | core %d busy %% | CPU-bound side | errors | runs |\n", rp.serverCore, rp.loadCore)
	fmt.Fprintln(rp.w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|")
	var notes []string
	for _, g := range gs {
		msgs := g.med(func(r *result) float64 { return r.MsgsPerSec })
		lo, hi := math.Inf(1), math.Inf(-1)
		var errs uint64
		noisy, dead := 0, 0
		for _, r := range g.runs {
			if r.Result != nil {
				lo = math.Min(lo, r.Result.MsgsPerSec)
				hi = math.Max(hi, r.Result.MsgsPerSec)
				errs += r.Result.Errors
				if r.Result.Others > rp.noise {
					noisy++
				}
			}
			if !r.ServerAlive {
				dead++
			}
		}
		scpu := g.med(func(r *result) float64 { return r.ServerCPU })
		ccpu := g.med(func(r *result) float64 { return r.ClientCPU })
		c0 := g.med(func(r *result) float64 { return core(r, rp.serverCore) })
		c1 := g.med(func(r *result) float64 { return core(r, rp.loadCore) })
		budget := 100.0
		if len(g.runs) > 0 && g.runs[0].Cap != "" {
			if v, err := strconv.ParseFloat(g.runs[0].Cap, 64); err == nil {
				budget = 100 * v
			}
		}
		bound := boundBy(scpu, c0, ccpu, c1, budget)
		name := g.server
		if noisy > 0 {
			name += " †"
			notes = append(notes, fmt.Sprintf("† %s: in %d of %d runs other processes used more than %.0f%% of a core during the measurement.", g.server, noisy, len(g.runs), rp.noise))
		}
		if dead > 0 {
			notes = append(notes, fmt.Sprintf("%s: the server process was gone after %d of %d runs.", g.server, dead, len(g.runs)))
		}
		rng := "–"
		if !math.IsInf(lo, 1) {
			rng = num(lo, 0) + "–" + num(hi, 0)
		}
		fmt.Fprintf(rp.w, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %d | %d/%d |\n",
			name, num(msgs, 0), rng,
			num(g.med(func(r *result) float64 { return r.MBPerSec }), 2),
			num(g.med(func(r *result) float64 { return r.Lat.P50 }), 0),
			num(g.med(func(r *result) float64 { return r.Lat.P99 }), 0),
			ratio(msgs, gnet), ratio(msgs, gorilla),
			num(scpu, 0), num(c0, 0), num(ccpu, 0), num(c1, 0), bound, errs, len(g.ok), len(g.runs))
	}
	for _, n := range notes {
		fmt.Fprintf(rp.w, "\n%s\n", n)
	}
}

func ratio(a, b float64) string {
	if math.IsNaN(a) || math.IsNaN(b) || b == 0 {
		return "–"
	}
	return num(a/b, 2) + "×"
}

// boundBy names the side that ran out of CPU: a process at 90% of its
// budget, or (uncapped) its core at 95% busy with softirq work included.
func boundBy(scpu, c0, ccpu, c1, budget float64) string {
	server := scpu >= 0.9*budget || (budget >= 100 && c0 >= 95)
	gen := ccpu >= 90 || c1 >= 95
	switch {
	case server && gen:
		return "both"
	case server:
		return "server"
	case gen:
		return "generator"
	}
	return "neither"
}

func (rp *reporter) idleTable(sc string, gs []*group) {
	what, capNote := describe(gs)
	fmt.Fprintf(rp.w, "\n### Scenario %s: %s (%s)\n\n", sc, what, capNote)
	fmt.Fprintln(rp.w, "| server | opened (median) | still open at the end | server RSS before, MiB | server RSS with them, MiB | bytes per connection (median) | min–max | 1M connections on paper, GiB | handshakes/s | errors | runs |")
	fmt.Fprintln(rp.w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, g := range gs {
		lo, hi := math.Inf(1), math.Inf(-1)
		var errs uint64
		for _, r := range g.ok {
			lo = math.Min(lo, r.BytesPerConn)
			hi = math.Max(hi, r.BytesPerConn)
			errs += r.Errors
		}
		per := g.med(func(r *result) float64 { return r.BytesPerConn })
		before := g.med(func(r *result) float64 { return float64(r.RSSBefore) })
		proj := (before + per*1e6) / (1 << 30)
		rng := "–"
		if !math.IsInf(lo, 1) {
			rng = num(lo, 0) + "–" + num(hi, 0)
		}
		fmt.Fprintf(rp.w, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %d | %d/%d |\n",
			g.server,
			num(g.med(func(r *result) float64 { return float64(r.Opened) }), 0),
			num(g.med(func(r *result) float64 { return float64(r.StillOpen) }), 0),
			num(before/(1<<20), 1),
			num(g.med(func(r *result) float64 { return float64(r.RSSEnd) })/(1<<20), 1),
			num(per, 0), rng, num(proj, 2),
			num(g.med(func(r *result) float64 { return r.OpenPerSec }), 0),
			errs, len(g.ok), len(g.runs))
	}
	fmt.Fprintln(rp.w, "\nOn paper: server RSS before + bytes per connection × 1,000,000 (not measured at that scale).")
}

func (rp *reporter) runsTable(runs []run) {
	fmt.Fprint(rp.w, "\n### Every run\n\n")
	fmt.Fprintln(rp.w, "| scenario | server | round | wsload exit | server alive | msgs/s or bytes/conn | p99 µs | server CPU % | wsload CPU % | cores busy % | others CPU % | mismatches | conn errors | lost | close timeouts | stalled s |")
	fmt.Fprintln(rp.w, "|---|---|---:|---:|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|")
	for _, r := range runs {
		x := r.Result
		if x == nil {
			fmt.Fprintf(rp.w, "| %s | %s | %d | %d | %v | no result | | | | | | | | | | |\n", r.Scenario, r.Server, r.Round, r.RC, r.ServerAlive)
			continue
		}
		v := num(x.MsgsPerSec, 0)
		if x.Kind == "idle" {
			v = num(x.BytesPerConn, 0) + " B"
		}
		var cores []string
		for _, c := range x.CoreBusy {
			cores = append(cores, num(c, 0))
		}
		fmt.Fprintf(rp.w, "| %s | %s | %d | %d | %v | %s | %s | %s | %s | %s | %s | %d | %d | %d | %d | %d |\n",
			r.Scenario, r.Server, r.Round, r.RC, r.ServerAlive, v, num(x.Lat.P99, 0),
			num(x.ServerCPU, 0), num(x.ClientCPU, 0), strings.Join(cores, "/"), num(x.Others, 0),
			x.Mismatches, x.ConnErrors, x.Lost, x.CloseTimeouts, x.StalledSeconds)
	}
}

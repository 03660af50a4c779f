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
	"strings"

	"github.com/volley-ws/volley/bench/internal/hist"
)

// runLine is one line of the runs.jsonl that bench/scripts/bench-fanout.sh writes.
type runLine struct {
	Scenario    string  `json:"scenario"`
	Server      string  `json:"server"`
	Round       int     `json:"round"`
	Cap         string  `json:"cap"`
	RC          int     `json:"rc"`
	ServerAlive bool    `json:"server_alive"`
	Result      *result `json:"result"`
}

// reportMain is "fanload report [-noise N] [-runs] [-ref SERVER] runs.jsonl ...":
// Markdown tables of the medians per scenario and server on stdout.
func reportMain(args []string) int {
	fs := flag.NewFlagSet("fanload report", flag.ContinueOnError)
	noise := fs.Float64("noise", 10, "mark runs where other processes used more than this % of a core")
	perRun := fs.Bool("runs", true, "append a table of every run")
	ref := fs.String("ref", "volley-event", "the server the ratios are taken against")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var runs []runLine
	for _, path := range fs.Args() {
		rs, err := readRuns(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, "fanload report:", err)
			return 1
		}
		runs = append(runs, rs...)
	}
	if len(runs) == 0 {
		fmt.Fprintln(os.Stderr, "fanload report: no runs (usage: fanload report runs.jsonl ...)")
		return 2
	}
	writeReport(os.Stdout, runs, *ref, *noise, *perRun)
	return 0
}

func readRuns(path string) ([]runLine, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var runs []runLine
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var r runLine
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		runs = append(runs, r)
	}
	return runs, sc.Err()
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
	runs   []runLine
	ok     []*result // runs with a result
	byRnd  map[int]*result
}

func (g *group) med(f func(*result) float64) float64 {
	var v []float64
	for _, r := range g.ok {
		v = append(v, f(r))
	}
	return median(v)
}

func groupRuns(runs []runLine, scenario string) []*group {
	var out []*group
	idx := map[string]*group{}
	for _, r := range runs {
		if r.Scenario != scenario {
			continue
		}
		g := idx[r.Server]
		if g == nil {
			g = &group{server: r.Server, byRnd: map[int]*result{}}
			idx[r.Server] = g
			out = append(out, g)
		}
		g.runs = append(g.runs, r)
		if r.Result != nil {
			g.ok = append(g.ok, r.Result)
			g.byRnd[r.Round] = r.Result
		}
	}
	return out
}

func scenarios(runs []runLine) []string {
	var out []string
	for _, r := range runs {
		if !slices.Contains(out, r.Scenario) {
			out = append(out, r.Scenario)
		}
	}
	return out
}

// describe is a scenario's title: what its runs did.
func describe(sc string, g []*group) string {
	for _, gr := range g {
		if len(gr.ok) == 0 {
			continue
		}
		r := gr.ok[0]
		load := fmt.Sprintf("window %d", r.Window)
		if r.Rate > 0 {
			load = fmt.Sprintf("%g publishes/s each (window %d)", r.Rate, r.Window)
		}
		what := fmt.Sprintf("%d subscribers, %d publisher%s × %s, %d B %s", r.Subs, r.Pubs, plural(r.Pubs), load, r.Size, r.Type)
		if c := gr.runs[0].Cap; c != "" {
			what += fmt.Sprintf(" (server capped at %s core)", c)
		}
		return fmt.Sprintf("Scenario %s: %s", sc, what)
	}
	return "Scenario " + sc
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func mib(b float64) string { return fmt.Sprintf("%.1f", b/(1<<20)) }

func ms(us float64) string {
	if us < 10000 {
		return fmt.Sprintf("%.2f", us/1000)
	}
	return fmt.Sprintf("%.0f", us/1000)
}

// ratios returns the median over the groups' runs of this/ref, and every
// round's this/ref (rounds where both have a result), in round order.
func ratios(g, ref *group, f func(*result) float64) (med float64, perRound []float64) {
	med = g.med(f) / ref.med(f)
	var rounds []int
	for r := range g.byRnd {
		if ref.byRnd[r] != nil {
			rounds = append(rounds, r)
		}
	}
	slices.Sort(rounds)
	for _, r := range rounds {
		perRound = append(perRound, f(g.byRnd[r])/f(ref.byRnd[r]))
	}
	return med, perRound
}

func errorsOf(g *group) (errs uint64, failed int) {
	for _, r := range g.runs {
		if r.Result == nil || !r.ServerAlive {
			failed++
		}
		if r.Result != nil {
			errs += r.Result.Errors
		}
	}
	return errs, failed
}

func writeReport(w io.Writer, runs []runLine, refName string, noise float64, perRun bool) {
	del := func(r *result) float64 { return r.DeliveriesPerSec }
	for _, sc := range scenarios(runs) {
		gs := groupRuns(runs, sc)
		var ref *group
		for _, g := range gs {
			if g.server == refName && len(g.ok) > 0 {
				ref = g
			}
		}
		fmt.Fprintf(w, "\n#### %s\n\n", describe(sc, gs))
		fmt.Fprintf(w, "| server | deliveries/s | min–max | vs %s (by round) | latency p50 / p99 / max ms | server CPU %% | server µs per delivery | fanload CPU %% | VmRSS idle → max MiB (growth) | errors | runs |\n", refName)
		fmt.Fprintln(w, "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|")
		for _, g := range gs {
			errs, failed := errorsOf(g)
			mark := ""
			for _, r := range g.ok {
				if r.OthersCPUPct > noise {
					mark = " †"
				}
			}
			if len(g.ok) == 0 {
				fmt.Fprintf(w, "| %s%s | – | – | – | – | – | – | – | – | %d | %d (%d failed) |\n", g.server, mark, errs, len(g.runs), failed)
				continue
			}
			lo, hi := math.Inf(1), math.Inf(-1)
			for _, r := range g.ok {
				lo, hi = min(lo, r.DeliveriesPerSec), max(hi, r.DeliveriesPerSec)
			}
			vs := "–"
			if ref != nil {
				m, pr := ratios(g, ref, del)
				var parts []string
				for _, v := range pr {
					parts = append(parts, fmt.Sprintf("%.2f", v))
				}
				vs = fmt.Sprintf("%.2f× (%s)", m, strings.Join(parts, ", "))
			}
			p50 := g.med(func(r *result) float64 { return latOf(r).P50 })
			p99 := g.med(func(r *result) float64 { return latOf(r).P99 })
			pmax := g.med(func(r *result) float64 { return latOf(r).Max })
			idle := g.med(func(r *result) float64 { return float64(r.RSSIdle) })
			top := g.med(func(r *result) float64 { return float64(r.RSSMax) })
			growth := g.med(func(r *result) float64 { return float64(r.RSSMax - r.RSSIdle) })
			runsCell := fmt.Sprint(len(g.runs))
			if failed > 0 {
				runsCell += fmt.Sprintf(" (%d failed)", failed)
			}
			fmt.Fprintf(w, "| %s%s | %.0f | %.0f–%.0f | %s | %s / %s / %s | %.0f | %.2f | %.0f | %s → %s (%s) | %d | %s |\n",
				g.server, mark, g.med(del), lo, hi, vs, ms(p50), ms(p99), ms(pmax),
				g.med(func(r *result) float64 { return r.ServerCPUPct }),
				g.med(func(r *result) float64 { return r.ServerNsPerDel })/1000,
				g.med(func(r *result) float64 { return r.ClientCPUPct }),
				mib(idle), mib(top), mib(growth), errs, runsCell)
		}
	}
	if !perRun {
		return
	}
	fmt.Fprintf(w, "\n#### Every run\n\n")
	fmt.Fprintln(w, "| run | rc | deliveries/s | p99 ms | lost | order | corrupt | conn errors | late publishes | drain s (undelivered) | server CPU % | fanload CPU % | others CPU % |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, r := range runs {
		name := fmt.Sprintf("%s-%s-%d", r.Scenario, r.Server, r.Round)
		if r.Result == nil {
			fmt.Fprintf(w, "| %s | %d | – | – | – | – | – | – | – | – | – | – | – |\n", name, r.RC)
			continue
		}
		x := r.Result
		drain := fmt.Sprintf("%.1f", x.DrainSecs)
		if x.Undelivered > 0 {
			drain += fmt.Sprintf(" (%d)", x.Undelivered)
		}
		fmt.Fprintf(w, "| %s | %d | %.0f | %s | %d | %d | %d | %d | %d | %s | %.0f | %.0f | %.1f |\n",
			name, r.RC, x.DeliveriesPerSec, ms(latOf(x).P99), x.Lost, x.OrderErrors, x.Corrupt, x.ConnErrors,
			x.LatePublishes, drain, x.ServerCPUPct, x.ClientCPUPct, x.OthersCPUPct)
	}
}

func latOf(r *result) (l hist.Latencies) {
	if r.LatUS != nil {
		l = *r.LatUS
	}
	return l
}

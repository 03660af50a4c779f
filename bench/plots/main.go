// Command plots draws the benchmark plots that BENCHMARKS.md and README.md
// embed, from the published results in bench/published/, and with -tables
// prints the Markdown tables drawn from the same data.
//
//	make plots                          # from the repository root
//	go -C bench/plots run . -tables     # the tables too, on stdout
//
// It is a module of its own so that gonum/plot stays out of the library's
// go.mod. Inputs (see bench/published/README.md):
//
//   - <run>/runs.jsonl and <run>-capped0.5/runs.jsonl: the echo runs,
//     pinned and capped (bench/cmd/wsload's JSON lines), whose scenario d
//     is also the idle run;
//   - <run>-fanout-capped0.5/runs.jsonl: the fan-out run (bench/cmd/fanload's JSON lines);
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image/color"
	"io"
	"log"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// The published runs the plots are drawn from.
const (
	echoPinned = "20261203-071655" // make bench: a b c d, pinned
	echoCapped = "20261203-072726-capped0.5"
	echoCommit = "b4fb148"
	idleRun    = echoPinned
	fanRun     = "20261203-085613-fanout-capped0.5"
	fanTitle   = "run 20261203-085613, commit f73d97c, server capped at half a core"
)

// servers in the order the plots and tables show them, with their colours.
var servers = []struct {
	name  string
	color color.RGBA
}{
	{"volley-event", color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}},
	{"volley-blocking", color.RGBA{R: 0x6b, G: 0xae, B: 0xd6, A: 0xff}},
	{"volley-registry", color.RGBA{R: 0x9e, G: 0xc9, B: 0xe2, A: 0xff}},
	{"gws", color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}},
	{"gorilla", color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff}},
	{"nbio", color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff}},
	{"gnet", color.RGBA{R: 0x7f, G: 0x7f, B: 0x7f, A: 0xff}},
}

func serverColor(name string) color.Color {
	for _, s := range servers {
		if s.name == name {
			return s.color
		}
	}
	return color.Black
}

// ordered returns the servers of have in the order of servers.
func ordered(have map[string]bool) []string {
	var out []string
	for _, s := range servers {
		if have[s.name] {
			out = append(out, s.name)
		}
	}
	return out
}

func main() {
	data := flag.String("data", "../published", "the published results")
	out := flag.String("out", ".", "where the PNG files go")
	tables := flag.Bool("tables", false, "also print the Markdown tables drawn from the same data")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("plots: ")

	var echo []echoRow
	for _, run := range []string{echoPinned, echoCapped} {
		rows, err := readEcho(filepath.Join(*data, run), run)
		if err != nil {
			log.Fatal(err)
		}
		echo = append(echo, rows...)
	}
	fan, err := readFanout(filepath.Join(*data, fanRun, "runs.jsonl"))
	if err != nil {
		log.Fatal(err)
	}
	idle, err := readIdle(filepath.Join(*data, idleRun, "runs.jsonl"))
	if err != nil {
		log.Fatal(err)
	}
	for name, mk := range map[string]func(string) error{
		"echo-throughput.png":   func(f string) error { return plotEcho(echo, f) },
		"fanout-deliveries.png": func(f string) error { return plotFanout(fan, f) },
		"idle-memory.png":       func(f string) error { return plotIdle(fan, idle, f) },
	} {
		if err := mk(filepath.Join(*out, name)); err != nil {
			log.Fatalf("%s: %v", name, err)
		}
	}
	if *tables {
		printTables(os.Stdout, echo, fan, idle)
	}
}

// echoRow is one server in one scenario of one echo run: medians over its
// rounds.
type echoRow struct {
	run, capped, scenario, server string
	msgs, min, max, p50, p99      float64
}

// echoRunLine is one line of bench.sh's runs.jsonl in scenarios a, b, c.
type echoRunLine struct {
	Scenario string `json:"scenario"`
	Server   string `json:"server"`
	Cap      string `json:"cap"`
	RC       int    `json:"rc"`
	Result   struct {
		MsgsPerS float64 `json:"msgs_per_s"`
		Lat      latency `json:"lat_us"`
		Errors   int     `json:"errors"`
	} `json:"result"`
}

// readEcho reads the echo scenarios of the run in dir (named run) and
// returns a row per scenario and server.
func readEcho(dir, run string) ([]echoRow, error) {
	path := filepath.Join(dir, "runs.jsonl")
	lines, err := readJSONL[echoRunLine](path)
	if err != nil {
		return nil, err
	}
	type key struct{ scenario, server string }
	msgs, p50, p99 := map[key][]float64{}, map[key][]float64{}, map[key][]float64{}
	var keys []key
	capped := "none"
	for _, l := range lines {
		if l.Scenario == "d" {
			continue
		}
		if l.RC != 0 || l.Result.Errors != 0 {
			return nil, fmt.Errorf("%s: a failed run of %s in %s", path, l.Server, l.Scenario)
		}
		if l.Cap != "" {
			capped = l.Cap
		}
		k := key{l.Scenario, l.Server}
		if _, ok := msgs[k]; !ok {
			keys = append(keys, k)
		}
		msgs[k] = append(msgs[k], l.Result.MsgsPerS)
		p50[k] = append(p50[k], l.Result.Lat.P50)
		p99[k] = append(p99[k], l.Result.Lat.P99)
	}
	var rows []echoRow
	for _, k := range keys {
		rows = append(rows, echoRow{
			run: run, capped: capped, scenario: k.scenario, server: k.server,
			msgs: median(msgs[k]), min: slices.Min(msgs[k]), max: slices.Max(msgs[k]),
			p50: median(p50[k]), p99: median(p99[k]),
		})
	}
	if len(rows) == 0 {
		return nil, errors.New(path + ": no echo runs")
	}
	return rows, nil
}

// fanRunLine is one line of bench-fanout.sh's runs.jsonl.
type fanRunLine struct {
	Scenario string `json:"scenario"`
	Server   string `json:"server"`
	Round    int    `json:"round"`
	RC       int    `json:"rc"`
	Result   struct {
		Subs             int     `json:"subs"`
		DeliveriesPerS   float64 `json:"deliveries_per_s"`
		Lat              latency `json:"lat_us"`
		RSSIdle          float64 `json:"rss_idle"`
		RSSMax           float64 `json:"rss_max"`
		IdleBytesPerConn float64 `json:"idle_bytes_per_conn"`
		NsPerDelivery    float64 `json:"server_ns_per_delivery"`
		Errors           int     `json:"errors"`
	} `json:"result"`
}

type latency struct {
	P50 float64 `json:"p50"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// idleRunLine is one line of bench.sh's runs.jsonl in scenario d.
type idleRunLine struct {
	Scenario string `json:"scenario"`
	Server   string `json:"server"`
	Result   struct {
		Conns        int     `json:"conns"`
		BytesPerConn float64 `json:"bytes_per_conn"`
	} `json:"result"`
}

func readJSONL[T any](path string) ([]T, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []T
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var v T
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		out = append(out, v)
	}
	return out, sc.Err()
}

func readFanout(path string) ([]fanRunLine, error) {
	runs, err := readJSONL[fanRunLine](path)
	if err != nil {
		return nil, err
	}
	for _, r := range runs {
		if r.RC != 0 || r.Result.Errors != 0 {
			return nil, fmt.Errorf("%s: run %s-%s-%d failed", path, r.Scenario, r.Server, r.Round)
		}
	}
	return runs, nil
}

func readIdle(path string) ([]idleRunLine, error) {
	runs, err := readJSONL[idleRunLine](path)
	if err != nil {
		return nil, err
	}
	if len(runs) == 0 {
		return nil, errors.New(path + ": no runs")
	}
	return runs, nil
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

var fanScenarios = []string{"f1", "f2", "f3", "steady-f2"}

// fanMedian is the median over the rounds of one server in one scenario.
func fanMedian(runs []fanRunLine, scenario, server string, f func(fanRunLine) float64) float64 {
	var v []float64
	for _, r := range runs {
		if r.Scenario == scenario && r.Server == server {
			v = append(v, f(r))
		}
	}
	return median(v)
}

func deliveries(r fanRunLine) float64 { return r.Result.DeliveriesPerS }

// bars adds one bar chart per server to p, grouped by category, each bar
// from floor up to its value (floor: 0 on a linear axis, the axis's
// minimum on a logarithmic one).
func bars(p *plot.Plot, names []string, value func(server string, cat int) float64, ncat int, floor float64) error {
	w := vg.Points(14)
	for i, name := range names {
		vals := make(plotter.Values, ncat)
		base := make(plotter.Values, ncat)
		for c := range vals {
			vals[c] = value(name, c) - floor
			base[c] = floor
		}
		b, err := plotter.NewBarChart(vals, w)
		if err != nil {
			return err
		}
		if floor != 0 {
			under, err := plotter.NewBarChart(base, w)
			if err != nil {
				return err
			}
			b.StackOn(under)
		}
		b.Offset = w * vg.Length(float64(i)-float64(len(names)-1)/2)
		b.Color = serverColor(name)
		b.LineStyle.Width = 0
		p.Add(b)
		p.Legend.Add(name, b)
	}
	p.Legend.Top = true
	p.Add(plotter.NewGrid())
	return nil
}

// echoScenarios are the echo scenarios the plot shows, with their labels.
var echoScenarios = []struct{ id, label string }{
	{"a", "a: 100 conns × 1 × 32 B"},
	{"b", "b: 1000 conns × 8 × 128 B"},
	{"c", "c: 16 conns × 16 × 16 KiB"},
}

// plotEcho draws msgs/s as a multiple of gorilla's, by scenario and server,
// one panel pinned to one core and one capped at half a core.
func plotEcho(rows []echoRow, file string) error {
	var plots [][]*plot.Plot
	for _, capped := range []string{"none", "0.5"} {
		get := func(server, scenario string) (echoRow, bool) {
			for _, r := range rows {
				if r.capped == capped && r.server == server && r.scenario == scenario {
					return r, true
				}
			}
			return echoRow{}, false
		}
		have := map[string]bool{}
		run := ""
		for _, r := range rows {
			if r.capped == capped {
				have[r.server] = true
				run = r.run
			}
		}
		p := plot.New()
		if capped == "none" {
			p.Title.Text = "Echo, server pinned to one core (run " + run + ", commit " + echoCommit + ")"
		} else {
			p.Title.Text = "Echo, server capped at half a core (run " + run + ", commit " + echoCommit + ")"
		}
		p.Y.Label.Text = "msgs/s ÷ gorilla's (medians of 3 rounds)"
		var labels []string
		for _, s := range echoScenarios {
			labels = append(labels, s.label)
		}
		p.NominalX(labels...)
		err := bars(p, ordered(have), func(server string, c int) float64 {
			r, ok := get(server, echoScenarios[c].id)
			g, okg := get("gorilla", echoScenarios[c].id)
			if !ok || !okg {
				return 0
			}
			return r.msgs / g.msgs
		}, len(echoScenarios), 0)
		if err != nil {
			return err
		}
		p.Y.Min, p.Y.Max = 0, 8
		p.Legend.Left = true
		plots = append(plots, []*plot.Plot{p})
	}
	return saveTiles(plots, 9*vg.Inch, 8*vg.Inch, file)
}

func saveTiles(plots [][]*plot.Plot, w, h vg.Length, file string) error {
	img := vgimg.New(w, h)
	dc := draw.New(img)
	t := draw.Tiles{Rows: len(plots), Cols: len(plots[0]), PadX: vg.Millimeter * 4, PadY: vg.Millimeter * 6,
		PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	canvases := plot.Align(plots, t, dc)
	for i := range plots {
		for j, p := range plots[i] {
			p.Draw(canvases[i][j])
		}
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	png := vgimg.PngCanvas{Canvas: img}
	if _, err := png.WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// plotFanout draws the median deliveries/s by scenario and server on a
// logarithmic axis.
func plotFanout(runs []fanRunLine, file string) error {
	have := map[string]bool{}
	for _, r := range runs {
		have[r.Server] = true
	}
	p := plot.New()
	p.Title.Text = "Fan-out deliveries/s (" + fanTitle + ")"
	p.Y.Label.Text = "deliveries/s, median of 3 rounds (log scale)"
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	p.NominalX(
		"f1: 1,000 subs, 1 pub × 16",
		"f2: 10,000 subs, 1 pub × 4",
		"f3: 1,000 subs, 100 pubs × 4",
		"steady-f2: 10,000 subs, 50 pubs/s",
	)
	const floor = 1e4
	err := bars(p, ordered(have), func(server string, c int) float64 {
		return fanMedian(runs, fanScenarios[c], server, deliveries)
	}, len(fanScenarios), floor)
	if err != nil {
		return err
	}
	p.Y.Min, p.Y.Max = floor, 3e7
	return p.Save(9*vg.Inch, 5*vg.Inch, file)
}

// idlePoint is the server VmRSS per open connection at one connection count.
type idlePoint struct {
	conns float64
	bytes float64
}

// idleSeries is what plotIdle draws and -tables prints: per server, bytes
// per idle connection at 1,000 (f1 and f3 of the fan-out run, before the
// first publish), 10,000 (f2 and steady-f2) and 19,000 (scenario d).
func idleSeries(fan []fanRunLine, idle []idleRunLine) map[string][]idlePoint {
	out := map[string][]idlePoint{}
	byCount := map[string]map[int][]float64{}
	for _, r := range fan {
		if byCount[r.Server] == nil {
			byCount[r.Server] = map[int][]float64{}
		}
		byCount[r.Server][r.Result.Subs] = append(byCount[r.Server][r.Result.Subs], r.Result.IdleBytesPerConn)
	}
	for _, r := range idle {
		if r.Scenario != "d" || strings.HasSuffix(r.Server, "-b") {
			continue
		}
		if byCount[r.Server] == nil {
			byCount[r.Server] = map[int][]float64{}
		}
		byCount[r.Server][r.Result.Conns] = append(byCount[r.Server][r.Result.Conns], r.Result.BytesPerConn)
	}
	for server, counts := range byCount {
		var keys []int
		for n := range counts {
			keys = append(keys, n)
		}
		slices.Sort(keys)
		for _, n := range keys {
			out[server] = append(out[server], idlePoint{float64(n), median(counts[n])})
		}
	}
	return out
}

// plotIdle draws server VmRSS per idle connection against the number of
// connections, both axes logarithmic.
func plotIdle(fan []fanRunLine, idle []idleRunLine, file string) error {
	series := idleSeries(fan, idle)
	have := map[string]bool{}
	for s := range series {
		have[s] = true
	}
	p := plot.New()
	p.Title.Text = "Server memory per idle connection\n1,000 and 10,000: fan-out run 20261203-003547 (subscribed to a topic); 19,000: echo run 20261202-203737"
	p.X.Label.Text = "open connections (log scale)"
	p.Y.Label.Text = "VmRSS per connection, bytes (median; log scale)"
	p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
	p.X.Tick.Marker = plot.ConstantTicks([]plot.Tick{{Value: 1000, Label: "1,000"}, {Value: 10000, Label: "10,000"}, {Value: 19000, Label: "19,000"}})
	p.Y.Tick.Marker = plot.ConstantTicks([]plot.Tick{
		{Value: 300, Label: "300"}, {Value: 1000, Label: "1,000"}, {Value: 3000, Label: "3,000"},
		{Value: 10000, Label: "10,000"}, {Value: 30000, Label: "30,000"},
	})
	p.Add(plotter.NewGrid())
	for _, name := range ordered(have) {
		pts := make(plotter.XYs, len(series[name]))
		for i, pt := range series[name] {
			pts[i] = plotter.XY{X: pt.conns, Y: pt.bytes}
		}
		l, s, err := plotter.NewLinePoints(pts)
		if err != nil {
			return err
		}
		l.Color, s.Color = serverColor(name), serverColor(name)
		l.Width = vg.Points(1.5)
		s.Shape = draw.CircleGlyph{}
		p.Add(l, s)
		p.Legend.Add(name, l, s)
	}
	p.Legend.Top = true
	p.Legend.YOffs = -vg.Points(40)
	p.X.Min, p.X.Max = 800, 80000
	p.Y.Min, p.Y.Max = 300, 40000
	return p.Save(9*vg.Inch, 5*vg.Inch, file)
}

// printTables writes the Markdown tables BENCHMARKS.md quotes.
func printTables(w io.Writer, echo []echoRow, fan []fanRunLine, idle []idleRunLine) {
	fmt.Fprintf(w, "### Echo: msgs/s ÷ gorilla (÷ raw gnet)\n\n")
	for _, capped := range []string{"none", "0.5"} {
		fmt.Fprintf(w, "capped %s\n\n| server | a | b | c |\n|---|---:|---:|---:|\n", capped)
		have := map[string]bool{}
		for _, r := range echo {
			if r.capped == capped {
				have[r.server] = true
			}
		}
		for _, s := range ordered(have) {
			fmt.Fprintf(w, "| %s |", s)
			for _, sc := range echoScenarios {
				var v, g, n float64
				for _, r := range echo {
					if r.capped == capped && r.scenario == sc.id {
						if r.server == s {
							v = r.msgs
						}
						if r.server == "gorilla" {
							g = r.msgs
						}
						if r.server == "gnet" {
							n = r.msgs
						}
					}
				}
				fmt.Fprintf(w, " %s (%.2f×) |", ratio(v, g), v/n)
			}
			fmt.Fprintln(w)
		}
		fmt.Fprintln(w)
	}

	fmt.Fprintf(w, "### Fan-out (%s): median deliveries/s, and volley-event's ÷ each\n\n", fanTitle)
	have := map[string]bool{}
	for _, r := range fan {
		have[r.Server] = true
	}
	names := ordered(have)
	fmt.Fprintf(w, "| server |")
	for _, sc := range fanScenarios {
		fmt.Fprintf(w, " %s |", sc)
	}
	fmt.Fprintf(w, "\n|---|%s\n", strings.Repeat("---:|", len(fanScenarios)))
	for _, s := range names {
		fmt.Fprintf(w, "| %s |", s)
		for _, sc := range fanScenarios {
			v := fanMedian(fan, sc, s, deliveries)
			e := fanMedian(fan, sc, "volley-event", deliveries)
			fmt.Fprintf(w, " %s (event ÷ it %s; per round %s) |", thousands(v), ratio(e, v), perRound(fan, sc, s))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "\nlatency p50 / p99 ms, µs per delivery, VmRSS idle → max MiB (growth)\n\n")
	for _, sc := range fanScenarios {
		for _, s := range names {
			p50 := fanMedian(fan, sc, s, func(r fanRunLine) float64 { return r.Result.Lat.P50 / 1000 })
			p99 := fanMedian(fan, sc, s, func(r fanRunLine) float64 { return r.Result.Lat.P99 / 1000 })
			ns := fanMedian(fan, sc, s, func(r fanRunLine) float64 { return r.Result.NsPerDelivery })
			idle := fanMedian(fan, sc, s, func(r fanRunLine) float64 { return r.Result.RSSIdle / (1 << 20) })
			mx := fanMedian(fan, sc, s, func(r fanRunLine) float64 { return r.Result.RSSMax / (1 << 20) })
			gr := fanMedian(fan, sc, s, func(r fanRunLine) float64 { return (r.Result.RSSMax - r.Result.RSSIdle) / (1 << 20) })
			fmt.Fprintf(w, "| %s | %s | %.3g / %.4g | %.2f | %.1f → %.1f (%.1f) |\n", sc, s, p50, p99, ns/1000, idle, mx, gr)
		}
	}
	fmt.Fprintf(w, "\n### Bytes per idle connection by count\n\n")
	series := idleSeries(fan, idle)
	have = map[string]bool{}
	for s := range series {
		have[s] = true
	}
	for _, s := range ordered(have) {
		fmt.Fprintf(w, "| %s |", s)
		for _, pt := range series[s] {
			fmt.Fprintf(w, " %s: %s |", thousands(pt.conns), thousands(pt.bytes))
		}
		fmt.Fprintln(w)
	}
}

func ratio(a, b float64) string {
	return strconv.FormatFloat(a/b, 'f', 2, 64) + "×"
}

// perRound is volley-event's deliveries/s over server's, round by round.
func perRound(fan []fanRunLine, scenario, server string) string {
	var parts []string
	for round := 1; ; round++ {
		var e, v float64
		for _, r := range fan {
			if r.Scenario == scenario && r.Round == round {
				switch r.Server {
				case "volley-event":
					e = r.Result.DeliveriesPerS
				case server:
					v = r.Result.DeliveriesPerS
				}
			}
		}
		if e == 0 || v == 0 {
			break
		}
		parts = append(parts, strconv.FormatFloat(e/v, 'f', 2, 64))
	}
	return strings.Join(parts, ", ")
}

// thousands formats v rounded to an integer with commas.
func thousands(v float64) string {
	s := strconv.FormatInt(int64(math.Round(v)), 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// Command testreport turns the output of go test -json into a report for a
// person: one line per package (ok or FAIL, time, tests run), the full
// output of the tests that failed (and of the package itself when it failed
// outside a test: a build error, a panic, TestMain's goroutine-leak check, a
// timeout), and counts for the test suite's closing summary.
//
//	go test -json ./... | testreport -stage 'tests (race, shuffled)' -dir DIR -raw DIR/tests.json
//
// It exits 1 when a package or a test failed or a package never reported a
// result. The raw JSON goes to -raw unchanged; with -dir, the counts are
// appended to DIR/tests.tsv (stage, tests, skipped, failed), the failed
// tests to DIR/failed.tsv (stage, package, test) and the packages that ran
// tests to DIR/packages.txt (stage, package), for .ci/lib/report.sh's
// summary. With -fuzz (one fuzz target per go test), each line names the
// target and ends with the fuzzing engine's last progress report (inputs
// run, new interesting inputs).
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// event is one line of go test -json (cmd/test2json's TestEvent, with the
// build events go test adds).
type event struct {
	Action      string
	Package     string
	Test        string
	Elapsed     float64
	Output      string
	ImportPath  string // build-output, build-fail
	FailedBuild string // a package's fail: the ImportPath whose build failed
}

type line struct{ test, text string }

// pkg is what is known of a package until its result arrives.
type pkg struct {
	name   string
	lines  []line            // output, in order of arrival
	result map[string]string // test -> pass, fail, skip; run while running
	order  []string          // tests in order of their start
	done   bool
	cut    bool // no result came: the stream ended first
}

// Report is what one go test -json stream contained.
type Report struct {
	Packages    []string // packages that ran tests (or failed)
	Tests       int      // top-level tests run (passed, failed or skipped)
	Skipped     int      // top-level tests skipped
	Failed      []string // "package test" for each failed test; "package [what]" when the package failed outside its tests
	FailedPkgs  int
	NoTestFiles []string
	NoTests     []string // packages with tests, none matching -run
}

// OK reports whether nothing failed.
func (r *Report) OK() bool { return r.FailedPkgs == 0 && len(r.Failed) == 0 }

type reporter struct {
	out    io.Writer
	trim   string
	fuzz   bool
	pkgs   map[string]*pkg
	order  []string
	builds map[string][]string // ImportPath -> build output
	shown  map[string]string   // build errors already printed -> the package they were printed for
	rep    Report
}

func newReporter(out io.Writer, trim string, fuzz bool) *reporter {
	return &reporter{
		out:    out,
		trim:   trim,
		fuzz:   fuzz,
		pkgs:   map[string]*pkg{},
		builds: map[string][]string{},
		shown:  map[string]string{},
	}
}

// short is a package's import path without the module's prefix.
func (r *reporter) short(p string) string {
	if r.trim == "" {
		return p
	}
	if p == strings.TrimSuffix(r.trim, "/") {
		return "."
	}
	return strings.TrimPrefix(p, r.trim)
}

func (r *reporter) pkg(name string) *pkg {
	p := r.pkgs[name]
	if p == nil {
		p = &pkg{name: name, result: map[string]string{}}
		r.pkgs[name] = p
		r.order = append(r.order, name)
	}
	return p
}

// text handles a line that is not JSON (go test writes its own errors as
// text when it cannot run at all): it is passed on as it is.
func (r *reporter) text(s string) {
	fmt.Fprintln(r.out, s)
}

func (r *reporter) event(e event) {
	switch e.Action {
	case "build-output":
		r.builds[e.ImportPath] = append(r.builds[e.ImportPath], e.Output)
		return
	case "build-fail":
		return
	}
	if e.Package == "" {
		return
	}
	p := r.pkg(e.Package)
	switch e.Action {
	case "output":
		p.lines = append(p.lines, line{e.Test, e.Output})
	case "run":
		if _, seen := p.result[e.Test]; !seen {
			p.order = append(p.order, e.Test)
		}
		p.result[e.Test] = "run"
	case "pass", "fail", "skip":
		if e.Test != "" {
			if _, seen := p.result[e.Test]; !seen {
				p.order = append(p.order, e.Test)
			}
			p.result[e.Test] = e.Action
			return
		}
		r.finish(p, e)
	}
}

// counts returns the top-level tests run, skipped and failed, counting a
// test that started and never ended (a panic, a timeout) as failed. Each
// failed test is named as the summary lists it: a top-level test that
// failed in one subtest by that subtest's name, one that failed in several
// with their number.
func (p *pkg) counts() (run, skipped int, failed []string, failedSet map[string]bool) {
	failedSet = map[string]bool{}
	for _, t := range p.order {
		res := p.result[t]
		if res == "fail" || res == "run" {
			failedSet[t] = true
		}
		if strings.Contains(t, "/") {
			continue
		}
		run++
		if res == "skip" {
			skipped++
		}
	}
	for _, t := range p.order {
		if !failedSet[t] || strings.Contains(t, "/") {
			continue
		}
		// The failed subtests with no failed subtest of their own.
		var leaves []string
		for _, u := range p.order {
			if !failedSet[u] || !strings.HasPrefix(u, t+"/") {
				continue
			}
			leaf := true
			for _, v := range p.order {
				if failedSet[v] && strings.HasPrefix(v, u+"/") {
					leaf = false
					break
				}
			}
			if leaf {
				leaves = append(leaves, u)
			}
		}
		switch len(leaves) {
		case 0:
			failed = append(failed, t)
		case 1:
			failed = append(failed, leaves[0])
		default:
			failed = append(failed, fmt.Sprintf("%s (%d subtests failed)", t, len(leaves)))
		}
	}
	return run, skipped, failed, failedSet
}

func dur(s float64) string {
	if s < 60 {
		return fmt.Sprintf("%.1fs", s)
	}
	return fmt.Sprintf("%dm%02ds", int(s)/60, int(s)%60)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

// finish reports a package whose result (e) has arrived.
func (r *reporter) finish(p *pkg, e event) {
	p.done = true
	run, skipped, failed, failedSet := p.counts()
	output := ""
	for _, l := range p.lines {
		if l.test == "" {
			output += l.text
		}
	}
	if e.Action == "skip" || (e.Action == "pass" && run == 0) {
		if strings.Contains(output, "[no test files]") || e.Action == "skip" {
			r.rep.NoTestFiles = append(r.rep.NoTestFiles, r.short(p.name))
		} else {
			r.rep.NoTests = append(r.rep.NoTests, r.short(p.name))
		}
		return
	}
	r.rep.Packages = append(r.rep.Packages, p.name)
	r.rep.Tests += run
	r.rep.Skipped += skipped
	for _, t := range failed {
		r.rep.Failed = append(r.rep.Failed, p.name+" "+t)
	}

	label := r.short(p.name)
	if r.fuzz && len(p.order) > 0 {
		label += " " + p.order[0]
	}
	status := "ok"
	if e.Action == "fail" {
		status = "FAIL"
		r.rep.FailedPkgs++
	}
	var detail string
	switch {
	case e.FailedBuild != "":
		detail = "build failed"
	case r.fuzz:
		detail = lastFuzzProgress(p.lines)
	default:
		detail = plural(run, "test", "tests")
		if skipped > 0 {
			detail += fmt.Sprintf(", %d skipped", skipped)
		}
		if len(failed) > 0 {
			detail += fmt.Sprintf(", %d failed", len(failed))
		}
	}
	width := 30
	if r.fuzz {
		width = 44 // package and target
	}
	if e.FailedBuild != "" {
		fmt.Fprintf(r.out, "%-4s  %-*s %s\n", status, width, label, detail)
	} else {
		fmt.Fprintf(r.out, "%-4s  %-*s %7s  %s\n", status, width, label, dur(e.Elapsed), detail)
	}
	if e.Action != "fail" {
		return
	}

	if e.FailedBuild != "" {
		r.rep.Failed = append(r.rep.Failed, p.name+" [build failed]")
		// A package that does not build fails the tests of every
		// package that imports it: its errors are shown once.
		out := r.builds[e.FailedBuild]
		key := strings.Join(out, "")
		if len(out) > 0 && strings.HasPrefix(out[0], "# ") {
			key = strings.Join(out[1:], "")
		}
		if first, ok := r.shown[key]; ok {
			fmt.Fprintf(r.out, "      (the same build errors as %s above)\n", first)
			return
		}
		r.shown[key] = label
		r.block(out)
		return
	}
	switch {
	case p.cut:
		r.rep.Failed = append(r.rep.Failed, p.name+" [no result: the test binary did not finish]")
	case len(failed) == 0:
		// Failed outside any test: TestMain (the leak check), a panic
		// after the tests, a crash at start-up.
		r.rep.Failed = append(r.rep.Failed, p.name+" [package failed outside its tests: see its output]")
	}
	var text []string
	for _, l := range p.lines {
		if l.test != "" && !failedSet[l.test] {
			continue
		}
		if strings.HasPrefix(l.text, "=== PAUSE") || strings.HasPrefix(l.text, "=== CONT") || strings.HasPrefix(l.text, "=== NAME") {
			continue
		}
		if l.test == "" && strings.HasPrefix(l.text, "FAIL\t"+p.name+"\t") {
			continue // the line above says it
		}
		text = append(text, l.text)
	}
	r.block(text)
}

// block prints output lines indented under a package line.
func (r *reporter) block(text []string) {
	all := strings.Join(text, "")
	all = strings.TrimRight(all, "\n")
	if all == "" {
		return
	}
	for _, l := range strings.Split(all, "\n") {
		fmt.Fprintf(r.out, "    | %s\n", l)
	}
}

// fuzzProgress matches the fuzzing engine's progress report, "fuzz:
// elapsed: 3s, execs: 100000 (33237/sec), new interesting: 2 (total: 51)".
var fuzzProgress = regexp.MustCompile(`execs: (\d+) \((\d+)/sec\), new interesting: (\d+) \(total: (\d+)\)`)

// lastFuzzProgress returns the fuzzing engine's last progress report,
// shortened, or "" when there is none.
func lastFuzzProgress(lines []line) string {
	for i := len(lines) - 1; i >= 0; i-- {
		t := strings.TrimSpace(lines[i].text)
		if !strings.HasPrefix(t, "fuzz: elapsed:") {
			continue
		}
		if m := fuzzProgress.FindStringSubmatch(t); m != nil {
			return fmt.Sprintf("%s inputs, %s new interesting (corpus: %s)", m[1], m[3], m[4])
		}
		return strings.TrimPrefix(t, "fuzz: ")
	}
	return ""
}

// end reports the packages that never got a result (the stream was cut: go
// test killed, or the test binary gone without a word) as failed, and
// lists the packages without tests.
func (r *reporter) end() {
	for _, name := range r.order {
		p := r.pkgs[name]
		if p.done {
			continue
		}
		// Packages of which only a "start" came and nothing else do not
		// count: go test was stopped before it ran them.
		if len(p.lines) == 0 && len(p.order) == 0 {
			continue
		}
		p.cut = true
		r.finish(p, event{Action: "fail", Package: name})
	}
	if len(r.rep.NoTestFiles) > 0 && !r.fuzz {
		fmt.Fprintf(r.out, "      no test files: %s\n", strings.Join(r.rep.NoTestFiles, ", "))
	}
	if len(r.rep.NoTests) > 0 && !r.fuzz {
		fmt.Fprintf(r.out, "      no tests to run: %s\n", strings.Join(r.rep.NoTests, ", "))
	}
}

// run reads a go test -json stream from in, copying it to raw when raw is
// not nil, and reports it on out.
func run(in io.Reader, raw io.Writer, out io.Writer, trim string, fuzz bool) (*Report, error) {
	r := newReporter(out, trim, fuzz)
	br := bufio.NewReaderSize(in, 1<<16)
	for {
		b, err := br.ReadBytes('\n')
		if len(b) > 0 {
			if raw != nil {
				if _, werr := raw.Write(b); werr != nil {
					return nil, werr
				}
			}
			var e event
			s := strings.TrimRight(string(b), "\r\n")
			if len(s) > 0 && s[0] == '{' && json.Unmarshal(b, &e) == nil {
				r.event(e)
			} else if strings.TrimSpace(s) != "" {
				r.text(s)
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	r.end()
	return &r.rep, nil
}

// record appends the report's counts to the files in dir that the
// summary reads.
func record(dir, stage string, rep *Report) error {
	appendTo := func(name, text string) error {
		if text == "" {
			return nil
		}
		f, err := os.OpenFile(filepath.Join(dir, name), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			return err
		}
		_, err = f.WriteString(text)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return err
	}
	var failed, pkgs strings.Builder
	for _, f := range rep.Failed {
		p, t, _ := strings.Cut(f, " ")
		fmt.Fprintf(&failed, "%s\t%s\t%s\n", stage, p, t)
	}
	ps := append([]string(nil), rep.Packages...)
	sort.Strings(ps)
	for _, p := range ps {
		fmt.Fprintf(&pkgs, "%s\t%s\n", stage, p)
	}
	if err := appendTo("tests.tsv", fmt.Sprintf("%s\t%d\t%d\t%d\n", stage, rep.Tests, rep.Skipped, len(rep.Failed))); err != nil {
		return err
	}
	if err := appendTo("failed.tsv", failed.String()); err != nil {
		return err
	}
	return appendTo("packages.txt", pkgs.String())
}

func main() {
	stage := flag.String("stage", "tests", "the stage's name, for the summary")
	dir := flag.String("dir", "", "directory to append the counts to (tests.tsv, failed.tsv, packages.txt)")
	rawPath := flag.String("raw", "", "file to append the raw JSON to")
	trim := flag.String("trim", "", "prefix to remove from import paths (the module path and a slash)")
	fuzz := flag.Bool("fuzz", false, "one fuzz target per package: name it, and show the fuzzing engine's last progress line")
	flag.Parse()

	var raw io.Writer
	if *rawPath != "" {
		f, err := os.OpenFile(*rawPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			fmt.Fprintln(os.Stderr, "testreport:", err)
			os.Exit(2)
		}
		defer f.Close()
		raw = f
	}
	rep, err := run(os.Stdin, raw, os.Stdout, *trim, *fuzz)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testreport:", err)
		os.Exit(2)
	}
	if *dir != "" {
		if err := record(*dir, *stage, rep); err != nil {
			fmt.Fprintln(os.Stderr, "testreport:", err)
			os.Exit(2)
		}
	}
	if !rep.OK() {
		os.Exit(1)
	}
}

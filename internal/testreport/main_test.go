package main

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const mod = "example.com/m/"

// stream builds a go test -json stream from lines "Action Package [Test
// [Output]]", Test "-" for none.
func stream(events ...string) string {
	var b strings.Builder
	for _, ev := range events {
		f := strings.SplitN(ev, " ", 4)
		b.WriteString(`{"Action":"` + f[0] + `","Package":"` + mod + f[1] + `"`)
		if len(f) > 2 && f[2] != "-" {
			b.WriteString(`,"Test":"` + f[2] + `"`)
		}
		if len(f) > 3 {
			b.WriteString(`,"Output":"` + strings.ReplaceAll(f[3], "\t", `\t`) + `\n"`)
		}
		if (f[0] == "pass" || f[0] == "fail") && len(f) == 2 {
			b.WriteString(`,"Elapsed":1.5`)
		}
		b.WriteString("}\n")
	}
	return b.String()
}

func report(t *testing.T, in string, fuzz bool) (*Report, string) {
	t.Helper()
	var out, raw bytes.Buffer
	rep, err := run(strings.NewReader(in), &raw, &out, mod, fuzz)
	if err != nil {
		t.Fatal(err)
	}
	if raw.String() != in {
		t.Errorf("raw copy differs from the input")
	}
	return rep, out.String()
}

func TestPassingPackage(t *testing.T) {
	rep, out := report(t, stream(
		"start a",
		"run a TestOne",
		"output a TestOne === RUN   TestOne",
		"output a TestOne some log line",
		"pass a TestOne",
		"run a TestTwo",
		"run a TestTwo/sub",
		"pass a TestTwo/sub",
		"pass a TestTwo",
		"run a TestSkip",
		"skip a TestSkip",
		"output a - ok  \texample.com/m/a\t1.5s",
		"pass a",
		"start b",
		"output b - ?   \texample.com/m/b\t[no test files]",
		"skip b",
		"start c",
		"output c - ok  \texample.com/m/c\t0.1s [no tests to run]",
		"pass c",
	), false)
	if !rep.OK() || rep.Tests != 3 || rep.Skipped != 1 || !reflect.DeepEqual(rep.Packages, []string{mod + "a"}) {
		t.Errorf("report %+v, want OK, 3 tests, 1 skipped, package a", rep)
	}
	want := "ok    a                                 1.5s  3 tests, 1 skipped\n" +
		"      no test files: b\n" +
		"      no tests to run: c\n"
	if out != want {
		t.Errorf("output\n%s\nwant\n%s", out, want)
	}
}

func TestFailingTest(t *testing.T) {
	rep, out := report(t, stream(
		"output a - -test.shuffle 42",
		"run a TestGood",
		"output a TestGood === RUN   TestGood",
		"output a TestGood good output",
		"pass a TestGood",
		"run a TestBad",
		"output a TestBad === RUN   TestBad",
		"run a TestBad/fine",
		"output a TestBad/fine fine output",
		"pass a TestBad/fine",
		"run a TestBad/broken",
		"output a TestBad/broken     bad_test.go:9: broken",
		"fail a TestBad/broken",
		"output a TestBad --- FAIL: TestBad (0.00s)",
		"fail a TestBad",
		"output a - FAIL",
		"output a - FAIL\texample.com/m/a\t1.5s",
		"fail a",
	), false)
	if rep.OK() || !reflect.DeepEqual(rep.Failed, []string{mod + "a TestBad/broken"}) {
		t.Errorf("failed %q, want [a TestBad/broken]", rep.Failed)
	}
	for _, s := range []string{"FAIL  a", "2 tests, 1 failed", "| -test.shuffle 42", "| === RUN   TestBad", "|     bad_test.go:9: broken", "| --- FAIL: TestBad"} {
		if !strings.Contains(out, s) {
			t.Errorf("output lacks %q:\n%s", s, out)
		}
	}
	for _, s := range []string{"good output", "fine output", "FAIL\texample.com"} {
		if strings.Contains(out, s) {
			t.Errorf("output has %q:\n%s", s, out)
		}
	}
}

// A test that fails in several subtests is named once, with their number.
func TestFailingSubtests(t *testing.T) {
	rep, out := report(t, stream(
		"run a TestMany",
		"run a TestMany/one",
		"fail a TestMany/one",
		"run a TestMany/two",
		"run a TestMany/two/deep",
		"fail a TestMany/two/deep",
		"fail a TestMany/two",
		"fail a TestMany",
		"run a TestAlone",
		"fail a TestAlone",
		"fail a",
	), false)
	want := []string{mod + "a TestMany (2 subtests failed)", mod + "a TestAlone"}
	if rep.OK() || !reflect.DeepEqual(rep.Failed, want) {
		t.Errorf("failed %q, want %q", rep.Failed, want)
	}
	if !strings.Contains(out, "2 tests, 2 failed") {
		t.Errorf("output:\n%s", out)
	}
}

// A package that fails after its tests passed (TestMain's leak check), and
// one whose test binary never finished (the stream ends mid-test).
func TestFailingOutsideTests(t *testing.T) {
	rep, out := report(t, stream(
		"run a TestOne",
		"pass a TestOne",
		"output a - leakcheck: 1 goroutine left behind",
		"fail a",
		"run b TestHangs",
		"output b TestHangs === RUN   TestHangs",
		"output b TestHangs still running",
	), false)
	want := []string{
		mod + "a [package failed outside its tests: see its output]",
		mod + "b TestHangs",
		mod + "b [no result: the test binary did not finish]",
	}
	if rep.OK() || !reflect.DeepEqual(rep.Failed, want) {
		t.Errorf("failed %q, want %q", rep.Failed, want)
	}
	for _, s := range []string{"| leakcheck: 1 goroutine left behind", "FAIL  b", "| still running"} {
		if !strings.Contains(out, s) {
			t.Errorf("output lacks %q:\n%s", s, out)
		}
	}
}

func TestBuildFailure(t *testing.T) {
	in := `{"ImportPath":"example.com/m/a [example.com/m/a.test]","Action":"build-output","Output":"# example.com/m/a\n"}
{"ImportPath":"example.com/m/a [example.com/m/a.test]","Action":"build-output","Output":"a/a.go:3:1: syntax error\n"}
{"ImportPath":"example.com/m/a [example.com/m/a.test]","Action":"build-fail"}
{"Action":"start","Package":"example.com/m/a"}
{"Action":"output","Package":"example.com/m/a","Output":"FAIL\texample.com/m/a [build failed]\n"}
{"Action":"fail","Package":"example.com/m/a","Elapsed":0,"FailedBuild":"example.com/m/a [example.com/m/a.test]"}
{"Action":"start","Package":"example.com/m/b"}
{"ImportPath":"example.com/m/a [example.com/m/b.test]","Action":"build-output","Output":"# example.com/m/a [example.com/m/b.test]\n"}
{"ImportPath":"example.com/m/a [example.com/m/b.test]","Action":"build-output","Output":"a/a.go:3:1: syntax error\n"}
{"Action":"fail","Package":"example.com/m/b","Elapsed":0,"FailedBuild":"example.com/m/a [example.com/m/b.test]"}
go: something went wrong
`
	rep, out := report(t, in, false)
	want := []string{mod + "a [build failed]", mod + "b [build failed]"}
	if rep.OK() || !reflect.DeepEqual(rep.Failed, want) {
		t.Errorf("failed %q, want %q", rep.Failed, want)
	}
	if strings.Count(out, "syntax error") != 1 || !strings.Contains(out, "FAIL  b                              build failed\n      (the same build errors as a above)\n") || !strings.Contains(out, "\ngo: something went wrong\n") {
		t.Errorf("output:\n%s", out)
	}
}

func TestFuzz(t *testing.T) {
	rep, out := report(t, stream(
		"run a FuzzX",
		"output a FuzzX fuzz: elapsed: 0s, gathering baseline coverage: 0/30 completed",
		"output a FuzzX fuzz: elapsed: 2s, execs: 100000 (45000/sec), new interesting: 2 (total: 32)",
		"pass a FuzzX",
		"pass a",
	), true)
	if !rep.OK() || rep.Tests != 1 {
		t.Errorf("report %+v", rep)
	}
	want := "ok    a FuzzX                                         1.5s  100000 inputs, 2 new interesting (corpus: 32)\n"
	if out != want {
		t.Errorf("output\n%s\nwant\n%s", out, want)
	}
}

func TestRecord(t *testing.T) {
	dir := t.TempDir()
	rep := &Report{Packages: []string{mod + "b", mod + "a"}, Tests: 5, Skipped: 1, Failed: []string{mod + "a TestX"}}
	if err := record(dir, "tests", rep); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"tests.tsv":    "tests\t5\t1\t1\n",
		"failed.tsv":   "tests\t" + mod + "a\tTestX\n",
		"packages.txt": "tests\t" + mod + "a\ntests\t" + mod + "b\n",
	} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || string(b) != want {
			t.Errorf("%s: %q, %v; want %q", name, b, err, want)
		}
	}
}

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The deployment files in deploy/ are checked against the binary: a flag
// renamed or removed in parseFlags, or a shutdown grace that outgrows the
// unit's stop timeout, fails these tests.

// unitDirectives reads a systemd unit file: each directive's values in
// order, lines joined at a trailing backslash, comments and section
// headers skipped (the sections' names do not matter here).
func unitDirectives(t *testing.T, path string) map[string][]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	d := make(map[string][]string)
	var line string
	for raw := range strings.Lines(string(b)) {
		raw = strings.TrimSpace(raw)
		if line == "" && (raw == "" || raw[0] == '#' || raw[0] == ';' || raw[0] == '[') {
			continue
		}
		if cont, ok := strings.CutSuffix(raw, `\`); ok {
			line += cont + " "
			continue
		}
		line += raw
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("%s: not a directive: %q", path, line)
		}
		d[k] = append(d[k], strings.TrimSpace(v))
		line = ""
	}
	return d
}

// one returns the single value of the directive key.
func one(t *testing.T, d map[string][]string, key string) string {
	t.Helper()
	if len(d[key]) != 1 {
		t.Fatalf("%s: %q, want one value", key, d[key])
	}
	return d[key][0]
}

// sysctlSettings reads a sysctl.d file: each setting's value.
func sysctlSettings(t *testing.T, path string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := make(map[string]string)
	for line := range strings.Lines(string(b)) {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("%s: not a setting: %q", path, line)
		}
		s[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return s
}

// TestDeployUnit parses the unit's ExecStart with the binary's own flag
// parser, and checks its limits against the server's and the kernel
// settings'.
func TestDeployUnit(t *testing.T) {
	d := unitDirectives(t, "deploy/volley.service")
	args := strings.Fields(one(t, d, "ExecStart"))
	if !filepath.IsAbs(args[0]) || filepath.Base(args[0]) != "volley" {
		t.Fatalf("ExecStart runs %q, want an absolute path to volley", args[0])
	}
	var flags []string
	for _, a := range args[1:] {
		switch {
		case strings.HasPrefix(a, "$"):
			// The EnvironmentFile's options: none unless a site sets them.
		case strings.ContainsAny(a, `"'\%`):
			t.Fatalf("ExecStart argument %q: quoting and specifiers are not checked here", a)
		default:
			flags = append(flags, a)
		}
	}
	o, err := parseFlags(flags)
	if err != nil {
		t.Fatalf("ExecStart flags %q: %v", flags, err)
	}
	if o.cfg.Addr == "" || o.api != "event" {
		t.Errorf("ExecStart: addr %q, api %q", o.cfg.Addr, o.api)
	}

	// systemd must not kill the server while it is still closing.
	stop := one(t, d, "TimeoutStopSec")
	if _, err := strconv.Atoi(stop); err == nil {
		stop += "s" // a bare number is seconds
	}
	timeout, err := time.ParseDuration(strings.ReplaceAll(strings.ReplaceAll(stop, "min", "m"), " ", ""))
	if err != nil {
		t.Fatalf("TimeoutStopSec=%s: %v", one(t, d, "TimeoutStopSec"), err)
	}
	if o.grace+2*time.Second > timeout {
		t.Errorf("-shutdown-grace %v leaves less than 2s before TimeoutStopSec=%v", o.grace, timeout)
	}
	if r := one(t, d, "Restart"); r != "on-failure" {
		t.Errorf("Restart=%s", r)
	}

	nofile, err := strconv.Atoi(one(t, d, "LimitNOFILE"))
	if err != nil {
		t.Fatalf("LimitNOFILE: %v", err)
	}
	nrOpen, err := strconv.Atoi(sysctlSettings(t, "deploy/sysctl.conf")["fs.nr_open"])
	if err != nil || nofile > nrOpen {
		t.Errorf("LimitNOFILE=%d, sysctl.conf's fs.nr_open %d (%v): the kernel refuses a limit above it", nofile, nrOpen, err)
	}
}

// TestDeploySysctl checks that every setting of sysctl.conf is one the
// running kernel has, with as many fields as it has, and the backlog is
// one the listener can use.
func TestDeploySysctl(t *testing.T) {
	s := sysctlSettings(t, "deploy/sysctl.conf")
	if _, err := os.Stat("/proc/sys/net/core/somaxconn"); err != nil {
		t.Skipf("no /proc/sys to check the names against: %v", err)
	}
	for k, v := range s {
		cur, err := os.ReadFile("/proc/sys/" + strings.ReplaceAll(k, ".", "/"))
		if err != nil {
			t.Errorf("%s: %v", k, err)
			continue
		}
		if got, want := len(strings.Fields(v)), len(strings.Fields(string(cur))); got != want {
			t.Errorf("%s = %s: %d fields, the kernel's has %d (%q)", k, v, got, want, cur)
		}
	}
	// The listener's backlog is kept in 16 bits: more is cut to 65535.
	if n, err := strconv.Atoi(s["net.core.somaxconn"]); err != nil || n > 65535 {
		t.Errorf("net.core.somaxconn = %q", s["net.core.somaxconn"])
	}
}

// TestDeployUnitVerify runs systemd-analyze verify on the unit, with
// ExecStart pointing at a freshly built binary, when systemd-analyze is
// installed.
func TestDeployUnitVerify(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "volley")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	unit, err := os.ReadFile("deploy/volley.service")
	if err != nil {
		t.Fatal(err)
	}
	args := strings.Fields(unitDirectives(t, "deploy/volley.service")["ExecStart"][0])
	unit = []byte(strings.Replace(string(unit), "ExecStart="+args[0], "ExecStart="+bin, 1))
	path := filepath.Join(dir, "volley.service")
	if err := os.WriteFile(path, unit, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(analyze, "verify", path).CombinedOutput(); err != nil || len(out) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

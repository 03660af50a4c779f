package engine_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestREADMECompiles builds the complete program of the README's "Use it"
// section against this checkout, so that the README cannot drift from the
// API. It needs the go command and the module cache that building the
// tests filled (no network: GOPROXY=off).
func TestREADMECompiles(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program")
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	start := bytes.Index(readme, []byte("```go\npackage main\n"))
	if start < 0 {
		t.Fatal("README.md has no complete program (a ```go block starting with package main)")
	}
	src := readme[start+len("```go\n"):]
	src = src[:bytes.Index(src, []byte("```"))]
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	gomod := "module readme\n\ngo 1.26\n\nrequire github.com/volley-ws/volley v0.0.0\n\nreplace github.com/volley-ws/volley => " + root + "\n"
	for name, data := range map[string][]byte{"main.go": src, "go.mod": []byte(gomod)} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	for _, args := range [][]string{{"mod", "tidy"}, {"build", "-o", os.DevNull, "."}} {
		cmd := exec.Command(gobin, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOPROXY=off", "GOFLAGS=-mod=mod")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %v: %v\n%s", args, err, out)
		}
	}
}

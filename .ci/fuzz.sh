#!/usr/bin/env bash
# Runs every fuzz target of the module and of engine/natsbroker/ (the packages with a
# func Fuzz... in a _test.go file) for FUZZTIME each: by default 100000x, a count of
# inputs (about 2-10 s per target here), not a duration. With a duration,
# Go's fuzzing coordinator can report its own deadline as a failure
# ("context deadline exceeded", no failing input written) when a worker is
# mid-input as the time runs out on a loaded machine (golang/go#75804); a
# count has no deadline to race. Minimizing a new input is capped at 2s.
# New crashers are written under the package's testdata/fuzz/ and fail the
# run.
#
# One stage, a line per target (the fuzzing engine's last progress report),
# the target's full output when it fails (.ci/lib/report.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=.ci/lib/report.sh
. .ci/lib/report.sh
report_dir
trap report_interrupted INT TERM

FUZZTIME="${FUZZTIME:-100000x}"
case $FUZZTIME in
*x) per_target="${FUZZTIME%x} inputs per target" ;;
*) per_target="$FUZZTIME per target" ;;
esac

# The module's packages with a fuzz target (a func Fuzz... in a _test.go
# file), as ./dir.
fuzz_packages() {
	local dir
	go list -f '{{.Dir}}' ./... | while IFS= read -r dir; do
		if [ "$dir" = "$PWD" ]; then
			dir=.
		else
			dir=./${dir#"$PWD"/}
		fi
		if grep -qs '^func Fuzz' "$dir"/*_test.go; then
			printf '%s\n' "$dir"
		fi
	done
}

# fuzz_all fuzzes the root module's targets, then those of the modules of
# their own that have some (nats: its topic-to-subject escaping).
fuzz_all() {
	local rc=0 mod
	fuzz_module || rc=1
	for mod in engine/natsbroker; do
		if [ -f "$mod/go.mod" ]; then
			(cd "$mod" && fuzz_module) || rc=1
		fi
	done
	return "$rc"
}

# fuzz_module fuzzes every target of the module in the current directory.
fuzz_module() {
	local pkgs pkg targets target rc=0
	if ! pkgs=$(fuzz_packages) || [ -z "$pkgs" ]; then
		echo "found no packages with fuzz targets in $PWD (go list ./... failed?)"
		return 1
	fi
	for pkg in $pkgs; do
		if ! targets=$(go test -list '^Fuzz' "$pkg" 2>&1); then
			echo "go test -list '^Fuzz' $pkg failed:"
			printf '%s\n' "$targets" | sed 's/^/    | /'
			rc=1
			continue
		fi
		targets=$(printf '%s\n' "$targets" | grep '^Fuzz' || true)
		if [ -z "$targets" ]; then
			echo "no fuzz targets in $pkg"
			continue
		fi
		for target in $targets; do
			gotest --fuzz --log fuzz -run '^$' -fuzz "^${target}\$" -fuzztime "$FUZZTIME" -fuzzminimizetime 2s "$pkg" || rc=1
		done
	done
	return "$rc"
}

stage "fuzz ($per_target)" fuzz_all
report_finish

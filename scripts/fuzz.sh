#!/usr/bin/env bash
# Runs every fuzz target for FUZZTIME each: by default 100000x, a count of
# inputs (about 2-10 s per target here), not a duration. With a duration,
# Go's fuzzing coordinator can report its own deadline as a failure
# ("context deadline exceeded", no failing input written) when a worker is
# mid-input as the time runs out on a loaded machine (golang/go#75804); a
# count has no deadline to race. Minimizing a new input is capped at 2s.
# New crashers are written under the package's testdata/fuzz/ and fail the
# run.
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZTIME="${FUZZTIME:-100000x}"
for pkg in ./codec ./upgrade; do
	for target in $(go test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
		echo "fuzz $pkg $target ($FUZZTIME)"
		go test -run "^$" -fuzz "^${target}\$" -fuzztime "$FUZZTIME" -fuzzminimizetime 2s "$pkg"
	done
done

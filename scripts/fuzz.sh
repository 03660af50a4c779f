#!/usr/bin/env bash
# Runs every fuzz target for FUZZTIME (default 10s) each; minimizing a new
# input is capped at 2s so that it cannot outlast a short run (Go then
# reports "context deadline exceeded" as a failure). New crashers are
# written under the package's testdata/fuzz/ and fail the run.
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZTIME="${FUZZTIME:-10s}"
for pkg in ./codec ./upgrade; do
	for target in $(go test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
		echo "fuzz $pkg $target ($FUZZTIME)"
		go test -run "^$" -fuzz "^${target}\$" -fuzztime "$FUZZTIME" -fuzzminimizetime 2s "$pkg"
	done
done

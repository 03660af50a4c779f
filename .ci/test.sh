#!/usr/bin/env bash
# The whole test suite (make test): installs what the tests need
# (.ci/deps.sh), then checks formatting, runs go vet and staticcheck,
# every test under the race detector (shuffled), the allocation tests without
# it, and a short run of every fuzz target (.ci/fuzz.sh). The modules
# of their own (cmd/volley, nats, prom, interop) get their own go vet,
# staticcheck and race stages; bench/peers (the benchmark's peer servers)
# and bench/plots (the benchmark plots) are not tested.
#
# It prints a line as each stage starts and ends, one line per package
# tested, the full output of failing tests, and a summary; everything else
# goes to a log directory the summary names (.ci/lib/report.sh). Every
# stage runs even when one before it failed (except when installing fails);
# the exit status is 1 when any failed.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=.ci/lib/report.sh
. .ci/lib/report.sh
report_dir
trap report_interrupted INT TERM

STATICCHECK=honnef.co/go/tools/cmd/staticcheck@v0.8.2

# The Go files to check: those git knows of, and new ones it does not
# ignore; outside a git checkout, every one but bench/'s.
go_files() {
	local f
	{ git ls-files -co --exclude-standard -- '*.go' 2>/dev/null ||
		find . -name '*.go' -not -path './bench/*'; } |
		while IFS= read -r f; do
			if [ -f "$f" ]; then printf '%s\n' "$f"; fi
		done
}

check_gofmt() {
	local files=() out
	mapfile -t files < <(go_files)
	if [ ${#files[@]} -eq 0 ]; then
		echo "no Go files found"
		return 1
	fi
	if ! out=$(gofmt -l "${files[@]}" 2>&1); then
		printf '%s\n' "$out" | sed 's/^/    | /'
		return 1
	fi
	if [ -n "$out" ]; then
		echo "not gofmt-formatted (gofmt -w FILE rewrites it):"
		printf '%s\n' "$out" | sed 's/^/    | /'
		return 1
	fi
}

if ! ./.ci/deps.sh; then
	# Without chromium, nginx or Node the tests' failures would only say so.
	REPORT_FAILED=1
	report_finish
fi

stage "gofmt" check_gofmt
stage "go vet" quietly go-vet go vet ./...
stage "staticcheck" quietly staticcheck go run "$STATICCHECK" ./...
stage "tests (race, shuffled)" gotest -race -shuffle=on -count=1 -timeout 20m ./...
# The allocation tests again without the race detector, whose sync.Pool drops
# items on purpose (TestEchoZeroAllocs skips itself under -race).
stage "allocation tests" gotest -count=1 -run 'Alloc' ./...

# The modules of their own, each with a go.mod that replaces volley with
# this checkout, so that importing volley never pulls in what they need:
# cmd/volley (the server binary, which joins a cluster through the NATS
# broker), nats (the broker; its tests start Debian's nats-server), prom
# (the Prometheus exporter, so that the library's users do not get
# client_golang) and interop (tests against other WebSocket libraries and
# clients).
for mod in cmd/volley engine/natsbroker engine/prom engine/interop; do
	if [ -f "$mod/go.mod" ]; then
		stage "$mod: go vet" in_dir "$mod" quietly "$mod-go-vet" go vet ./...
		stage "$mod: staticcheck" in_dir "$mod" quietly "$mod-staticcheck" go run "$STATICCHECK" ./...
		stage "$mod: tests (race, shuffled)" in_dir "$mod" gotest -race -shuffle=on -count=1 -timeout 20m ./...
	fi
done

./.ci/fuzz.sh || REPORT_FAILED=1 # FUZZTIME: 100000x unless set
report_finish

#!/usr/bin/env bash
# Installs what the test suite needs beyond Go, when it is missing: gcc (the
# race detector), Debian's chromium and nginx and Node.js with npm (the
# real-client tests), nats-server (the NATS broker's and cmd/volley's
# cluster tests) and prometheus for its promtool (cmd/volley's admin tests
# check their /metrics scrape with it), then the Node packages of every
# package-lock.json in the repository (engine/interop/testdata/node: the
# ws package) from the npm registry (npm ci, from the committed lock
# file). Idempotent and quick when everything is there. apt-get needs root
# or sudo.
#
# It prints one line per package it installs; apt's and npm's own output
# goes to a log, printed (its tail) only when an install fails.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=.ci/lib/report.sh
. .ci/lib/report.sh

# The directories with a package-lock.json (outside node_modules).
node_dirs() {
	{ git ls-files -- '*package-lock.json' 2>/dev/null ||
		find . -name package-lock.json -not -path '*/node_modules/*' -not -path './bench/*'; } |
		sed -n 's#^\./##; s#/\{0,1\}package-lock\.json$##p' | sed 's#^$#.#'
}

# The packages a lock file installs at the top of node_modules, as NAME@VERSION.
npm_packages() {
	node -e '
		const lock = require(require("path").resolve(process.argv[1], "package-lock.json"));
		for (const [k, v] of Object.entries(lock.packages || {})) {
			const name = k.replace(/^node_modules\//, "");
			if (k.startsWith("node_modules/") && !name.includes("/node_modules/")) console.log(name + "@" + v.version);
		}' "$1"
}

install_deps() {
	local need_apt=() dir stamp p
	command -v gcc >/dev/null 2>&1 || need_apt+=(gcc)
	test -x /usr/bin/chromium || need_apt+=(chromium)
	# nginx-light depends on the nginx package, which ships /usr/sbin/nginx.
	test -x /usr/sbin/nginx || need_apt+=(nginx-light)
	test -x /usr/sbin/nats-server || need_apt+=(nats-server)
	# Debian's prometheus package ships /usr/bin/promtool.
	test -x /usr/bin/promtool || need_apt+=(prometheus)
	if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
		need_apt+=(nodejs npm)
	fi
	if [ ${#need_apt[@]} -gt 0 ]; then
		apt_install "${need_apt[@]}" || return 1
	fi

	while IFS= read -r dir; do
		stamp=$dir/node_modules/.package-lock.json
		if [ -f "$stamp" ] && [ ! "$dir/package-lock.json" -nt "$stamp" ] && [ ! "$dir/package.json" -nt "$stamp" ]; then
			continue
		fi
		while IFS= read -r p; do
			echo "install: $p (npm, in $dir)"
		done < <(npm_packages "$dir")
		in_dir "$dir" quietly --tail "npm-$(report_slug "$dir")" npm ci --no-audit --no-fund || return 1
		touch "$stamp"
	done < <(node_dirs)
}

trap report_interrupted INT TERM
stage deps install_deps
exit "$REPORT_FAILED"

#!/usr/bin/env bash
# Installs what the test suite needs beyond Go, when it is missing: gcc (the
# race detector), Debian's chromium and nginx and Node.js with npm (the
# real-client tests of cmd/volley), then Node's ws package from the npm
# registry (npm ci, from the committed lock file). Idempotent and quick when
# everything is there. apt-get needs root.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v gcc >/dev/null 2>&1 || need_apt+=(gcc)
test -x /usr/bin/chromium || need_apt+=(chromium)
# nginx-light depends on the nginx package, which ships /usr/sbin/nginx.
test -x /usr/sbin/nginx || need_apt+=(nginx-light)
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
	need_apt+=(nodejs npm)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
	echo "installing: ${need_apt[*]}"
	SUDO=""
	if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}"
fi

node_dir=cmd/volley/testdata/node
stamp=$node_dir/node_modules/.package-lock.json
if [ ! -f "$stamp" ] || [ "$node_dir/package-lock.json" -nt "$stamp" ] || [ "$node_dir/package.json" -nt "$stamp" ]; then
	(cd "$node_dir" && npm ci --no-audit --no-fund)
	touch "$stamp"
fi

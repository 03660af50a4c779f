#!/usr/bin/env bash
# A/B of two volley builds in one run: this checkout's cmd/volley
# (volley-event) against the build of BASE (volley-event-b), with the raw gnet
# echo as the reference, servers interleaved round by round, by default
# capped at half a core (CAP= for uncapped), seven rounds of scenarios b and
# c. Every setting of bench/scripts/bench.sh applies (ROUNDS, SCENARIOS, SERVERS,
# ...). Usage: bench/scripts/bench-ab.sh BASE (a commit), or make bench-ab BASE=...
set -euo pipefail
cd "$(dirname "$0")/../.."

base=${1:?usage: bench/scripts/bench-ab.sh BASE (a commit to compare this checkout with)}
rev=$(git rev-parse --verify "$base^{commit}")
tree=$(mktemp -d)
trap 'git worktree remove --force "$tree" >/dev/null 2>&1 || rm -rf "$tree"' EXIT
git worktree add --detach "$tree" "$rev" >/dev/null
mkdir -p bench/bin
echo "bench-ab: building cmd/volley at ${rev:0:7} into bench/bin/volley-b" >&2
. bench/scripts/lib/server.sh
build_volley "$tree" bench/bin/volley-b

export VOLLEY_B=bench/bin/volley-b
export CAP=${CAP-0.5}
export ROUNDS=${ROUNDS:-7}
export SCENARIOS=${SCENARIOS:-b c}
export SERVERS=${SERVERS:-volley-event volley-event-b gnet}
./bench/scripts/bench.sh

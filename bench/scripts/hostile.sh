#!/usr/bin/env bash
# Hostile-client benchmark: bench/bin/hostile against volley (blocking and
# event APIs), gws and gorilla/websocket. For each scenario and server, the
# server starts pinned to SERVER_CORE on a new port, hostile runs pinned to
# LOAD_CORE, and the server is stopped; the tables (server VmRSS before /
# peak / after, and how every connection ended) go to stdout and to
# bench/results/<run>-hostile/hostile.md, with each run's JSON line in
# runs.jsonl and the logs next to it.
#
# Scenarios (SCENARIOS="..." picks; see bench/cmd/hostile for what each does):
#   pingflood pipeline noread failnoread bomb bomb-under halfclose
#   halfclose-close many
#
# Every setting below can be overridden from the environment, e.g.
#   VOLLEY_FLAGS="-write-timeout 3s -idle-timeout 10s -close-timeout 2s" bench/scripts/hostile.sh
#   SCENARIOS="bomb bomb-under" SERVERS="volley-event gws" bench/scripts/hostile.sh
#   VOLLEY_REF=HEAD~3 bench/scripts/hostile.sh        # volley built from another commit
# "bench/scripts/hostile.sh build" only builds the binaries into bench/bin/.
set -euo pipefail
cd "$(dirname "$0")/../.."

SCENARIOS=${SCENARIOS:-pingflood pipeline noread failnoread bomb bomb-under halfclose halfclose-close many}
SERVERS=${SERVERS:-volley-blocking volley-event gws gorilla}
VOLLEY_FLAGS=${VOLLEY_FLAGS:-}                          # extra cmd/volley flags
PEER_FLAGS=${PEER_FLAGS--deflate -max-message 16777216} # gws-echo and gorilla-echo: deflate on, volley's 16 MiB message limit
DURATION=${DURATION:-5s}                                # pingflood, pipeline, noread, many: how long the clients send
FAIL_WAIT=${FAIL_WAIT:-20s}                             # failnoread: how long to wait for the server to close
BOMB_WAIT=${BOMB_WAIT:-20s}                             # bomb, bomb-under: how long to read the answers
SETTLE=${SETTLE:-3s}                                    # before measuring VmRSS after the clients close
HOSTILE_FLAGS=${HOSTILE_FLAGS:-}                        # added to every hostile command line
SERVER_CORE=${SERVER_CORE:-0}
LOAD_CORE=${LOAD_CORE:-1}
BASE_PORT=${BASE_PORT:-21000} # one new port per run, below the ephemeral range
RUN_LIMIT=${RUN_LIMIT:-300}   # seconds before a hostile run is killed (it has its own watchdog too)
BUILD=${BUILD:-1}
RESULTS=${RESULTS:-bench/results}
VOLLEY_BIN=${VOLLEY_BIN:-} # a cmd/volley binary to use instead of building this checkout's
VOLLEY_REF=${VOLLEY_REF:-} # or a commit to build cmd/volley from (git archive, the checkout is untouched)

BIN=bench/bin
SRV_PID=""
LOAD_PID=""
VOLLEY=${VOLLEY_BIN:-$BIN/volley}
VOLLEY_DESC=""

log() { printf '%s\n' "$*" >&2; }

# shellcheck source=bench/scripts/lib/server.sh
. bench/scripts/lib/server.sh

cleanup() {
	local rc=$?
	stop_load
	stop_server
	return $rc
}
trap cleanup EXIT
trap 'log "hostile: interrupted"; exit 130' INT TERM

build() {
	mkdir -p "$BIN"
	log "hostile: building into $BIN/"
	go build -o "$BIN/hostile" ./bench/cmd/hostile
	(cd bench/peers && for p in gorilla-echo gws-echo; do
		go build -o "../bin/$p" "./cmd/$p"
	done)
	if [ -n "$VOLLEY_BIN" ]; then
		return 0
	fi
	if [ -n "$VOLLEY_REF" ]; then
		local rev tree
		rev=$(git rev-parse --verify "$VOLLEY_REF^{commit}")
		tree=$(mktemp -d)
		git archive "$rev" | tar -x -C "$tree"
		log "hostile: building cmd/volley at ${rev:0:7} into $BIN/volley-${rev:0:7}"
		build_volley "$tree" "$BIN/volley-${rev:0:7}"
		rm -rf "$tree"
		VOLLEY=$BIN/volley-${rev:0:7}
	else
		build_volley . "$BIN/volley"
	fi
}

# server_cmd NAME ADDR: the command line of a server, on stdout
server_cmd() {
	local name=$1 addr=$2
	case $name in
	volley-blocking) echo "$VOLLEY -addr $addr -api blocking $VOLLEY_FLAGS" ;;
	volley-event) echo "$VOLLEY -addr $addr -api event $VOLLEY_FLAGS" ;;
	gws) echo "$BIN/gws-echo -addr $addr $PEER_FLAGS" ;;
	gorilla) echo "$BIN/gorilla-echo -addr $addr $PEER_FLAGS" ;;
	*)
		log "hostile: unknown server $name"
		return 1
		;;
	esac
}

# start_server NAME ADDR LOG: starts it pinned, sets SRV_PID, waits for its
# "listening" line. Fails if it does not come up.
start_server() {
	local name=$1 addr=$2 logf=$3 cmd
	cmd=$(server_cmd "$name" "$addr")
	# shellcheck disable=SC2086
	taskset -c "$SERVER_CORE" $cmd >"$logf" 2>&1 &
	SRV_PID=$!
	await_listening "$name" "$logf" hostile
}

# hostile_args SCENARIO: the hostile arguments of a scenario
hostile_args() {
	case $1 in
	pingflood | pipeline | noread | many) echo "$1 -duration $DURATION" ;;
	failnoread) echo "failnoread -wait $FAIL_WAIT" ;;
	bomb) echo "bomb -wait $BOMB_WAIT" ;;
	bomb-under) echo "bomb -under -wait $BOMB_WAIT" ;;
	halfclose) echo "halfclose" ;;
	halfclose-close) echo "halfclose -close" ;;
	*)
		log "hostile: unknown scenario $1"
		return 1
		;;
	esac
}

PORT=$BASE_PORT

# run_one SCENARIO SERVER: one run, its JSON line appended to runs.jsonl
run_one() {
	local sc=$1 name=$2 tag args rc=0 line path=/echo tries
	tag="$sc-$name"
	args=$(hostile_args "$sc")
	case $sc in pipeline) path=/nope ;; esac
	for tries in 1 2 3; do
		PORT=$((PORT + 1))
		if start_server "$name" "127.0.0.1:$PORT" "$RUN_DIR/$tag.server.log"; then
			break
		fi
		if [ "$tries" = 3 ]; then
			log "hostile: [$tag] server would not start, skipped"
			printf '{"scenario":"%s","label":"%s","error":"server would not start","ends":{}}\n' "$sc" "$name" >>"$RUN_DIR/runs.jsonl"
			return 0
		fi
	done
	log "hostile: [$tag] $name on 127.0.0.1:$PORT (pid $SRV_PID): hostile $args"
	# shellcheck disable=SC2086
	taskset -c "$LOAD_CORE" timeout -k 5 "$RUN_LIMIT" "$BIN/hostile" $args -addr "127.0.0.1:$PORT" -path "$path" \
		-pid "$SRV_PID" -label "$name" -settle "$SETTLE" -json $HOSTILE_FLAGS \
		>"$RUN_DIR/$tag.json" 2>"$RUN_DIR/$tag.hostile.log" &
	LOAD_PID=$!
	wait "$LOAD_PID" || rc=$?
	LOAD_PID=""
	stop_server
	line=$(tail -n 1 "$RUN_DIR/$tag.json")
	case $line in
	'{'*) ;;
	*) line=$(printf '{"scenario":"%s","label":"%s","error":"hostile exit %d, no result (see %s)","ends":{}}' "$sc" "$name" "$rc" "$tag.hostile.log") ;;
	esac
	[ "$rc" = 0 ] || log "hostile: [$tag] hostile exit $rc (4: server VmRSS limit reached, 5: server died); see $RUN_DIR/$tag.*"
	grep -v '^\[' "$RUN_DIR/$tag.hostile.log" | tail -n 1 >&2 || true
	printf '%s\n' "$line" >>"$RUN_DIR/runs.jsonl"
	sleep 1 # let the sockets of this run close before the next
}

main() {
	if [ "${1:-}" = build ]; then
		build
		return 0
	fi
	[ "$BUILD" = 1 ] && build
	if [ -n "$VOLLEY_REF" ] && [ -z "$VOLLEY_BIN" ]; then
		VOLLEY=$BIN/volley-$(git rev-parse --short=7 "$VOLLEY_REF^{commit}")
		VOLLEY_DESC="built from $(git rev-parse --short=7 "$VOLLEY_REF^{commit}")"
	elif [ -n "$VOLLEY_BIN" ]; then
		VOLLEY_DESC="$VOLLEY_BIN"
	else
		VOLLEY_DESC="built from this checkout, $(git rev-parse --short=7 HEAD 2>/dev/null || echo '?')"
		[ -z "$(git status --porcelain 2>/dev/null | head -n 1)" ] || VOLLEY_DESC="$VOLLEY_DESC with local changes"
	fi
	for b in "$VOLLEY" "$BIN/hostile" "$BIN/gws-echo" "$BIN/gorilla-echo"; do
		[ -x "$b" ] || { log "hostile: $b missing (run with BUILD=1)"; exit 1; }
	done

	local stamp sc name
	stamp=$(date +%Y%m%d-%H%M%S)
	RUN_DIR="$RESULTS/$stamp-hostile"
	mkdir -p "$RUN_DIR"
	: >"$RUN_DIR/runs.jsonl"
	log "hostile: results in $RUN_DIR"
	for sc in $SCENARIOS; do
		hostile_args "$sc" >/dev/null
		for name in $SERVERS; do
			run_one "$sc" "$name"
		done
	done

	{
		echo "## Hostile clients $stamp"
		echo
		echo "- CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) cores; kernel $(uname -r); $(go version | cut -d' ' -f3)"
		echo "- volley: $VOLLEY_DESC; VOLLEY_FLAGS=\"$VOLLEY_FLAGS\"; gws-echo and gorilla-echo: \"$PEER_FLAGS\""
		echo "- settings: DURATION=$DURATION FAIL_WAIT=$FAIL_WAIT BOMB_WAIT=$BOMB_WAIT SETTLE=$SETTLE HOSTILE_FLAGS=\"$HOSTILE_FLAGS\"; servers on core $SERVER_CORE, hostile on core $LOAD_CORE"
		echo "- RSS: the server's VmRSS before the clients connect, the peak (sampled every 100 ms), and $SETTLE after the clients closed"
		echo "- raw results: $RUN_DIR/"
		echo
		"$BIN/hostile" report "$RUN_DIR/runs.jsonl"
	} >"$RUN_DIR/hostile.md"
	cat "$RUN_DIR/hostile.md"
}

main "$@"

#!/usr/bin/env bash
# Echo benchmarks: volley (event and blocking APIs) against gws,
# gorilla/websocket, nbio and a raw gnet TCP echo (the ceiling for anything
# built on gnet), with bench/bin/wsload as the load generator.
#
# Each server runs pinned to SERVER_CORE, wsload to LOAD_CORE; with CAP set
# (make bench-capped) the server also runs in a cgroup (v1 cpu controller)
# limited to CAP of a core. Servers are interleaved over ROUNDS rounds; the
# tables give medians. Raw results: bench/results/<run>/ (runs.jsonl, one
# JSON file and the logs per run); the tables: stdout and
# bench/results/latest.md.
#
# Scenarios (SCENARIOS="a b c d" picks):
#   a  100 connections, 1 message in flight each, 32 B
#   b  1000 connections, 8 in flight, 128 B
#   c  16 connections, 16 in flight, 16 KiB
#   d  IDLE_CONNS idle connections (opened over IDLE_SOURCES source
#      addresses 127.0.0.x): the server's VmRSS growth per connection
#
# Every setting below can be overridden from the environment. To compare
# two builds of volley in one run, see bench/scripts/bench-ab.sh (make bench-ab).
# "bench/scripts/bench.sh build" only builds the binaries into bench/bin/.
set -euo pipefail
cd "$(dirname "$0")/../.."

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5s}
WARMUP=${WARMUP:-1s}
DRAIN=${DRAIN:-2s}
SCENARIOS=${SCENARIOS:-a b c d}
SERVERS=${SERVERS:-volley-event volley-blocking gws gorilla nbio gnet}
TYPE=${TYPE:-binary}               # message type for scenarios a-c
CAP=${CAP:-}                       # e.g. 0.5: server limited to half a core (cgroup v1)
SERVER_CORE=${SERVER_CORE:-0}
LOAD_CORE=${LOAD_CORE:-1}
IDLE_CONNS=${IDLE_CONNS:-19000}
IDLE_SOURCES=${IDLE_SOURCES:-20}
IDLE_HOLD=${IDLE_HOLD:-5s}
IDLE_ROUNDS=${IDLE_ROUNDS:-$ROUNDS}
BASE_PORT=${BASE_PORT:-20000}      # one new port per run, below the ephemeral range
QUIET_MAX=${QUIET_MAX:-20}         # before each run, wait for both cores to be at most this % busy ...
QUIET_WAIT=${QUIET_WAIT:-60}       # ... for at most this many seconds
NOISE=${NOISE:-10}                 # flag runs where other processes used more than this % of a core ...
RERUN_NOISY=${RERUN_NOISY:-2}      # ... and run them again up to this many times (discarded runs: noisy.jsonl)
BUILD=${BUILD:-1}
RESULTS=${RESULTS:-bench/results}
CGROUP_ROOT=${CGROUP_ROOT:-/sys/fs/cgroup/cpu}
VOLLEY_B=${VOLLEY_B:-}             # a second cmd/volley binary (another commit's build): servers volley-event-b, volley-blocking-b

BIN=bench/bin
SRV_PID=""
LOAD_PID=""
CG=""

log() { printf '%s\n' "$*" >&2; }

TAG=bench
# shellcheck source=bench/scripts/lib/server.sh
. bench/scripts/lib/server.sh
# shellcheck source=bench/scripts/lib/machine.sh
. bench/scripts/lib/machine.sh

cleanup() {
	local rc=$?
	stop_load
	stop_server
	remove_cgroup
	return $rc
}
trap cleanup EXIT
trap 'log "bench: interrupted"; exit 130' INT TERM

build() {
	mkdir -p "$BIN"
	log "bench: building into $BIN/"
	build_volley . "$BIN/volley"
	go build -o "$BIN/wsload" ./bench/cmd/wsload
	go build -o "$BIN/benchreport" ./bench/cmd/benchreport
	(cd bench/peers && for p in gorilla-echo gws-echo nbio-echo gnet-echo; do
		go build -o "../bin/$p" "./cmd/$p"
	done)
}

# server_cmd NAME ADDR: the command line of a server, on stdout
server_cmd() {
	local name=$1 addr=$2
	case $name in
	volley-event) echo "$BIN/volley -addr $addr -api event" ;;
	volley-blocking)
		if [ "$VOLLEY_API" = 1 ]; then
			echo "$BIN/volley -addr $addr -api blocking"
		else
			echo "$BIN/volley -addr $addr"
		fi
		;;
	volley-event-b | volley-blocking-b)
		if [ -z "$VOLLEY_B" ]; then
			log "bench: $name needs VOLLEY_B, the path of a second cmd/volley binary"
			return 1
		fi
		local api=event
		[ "$name" = volley-blocking-b ] && api=blocking
		echo "$VOLLEY_B -addr $addr -api $api"
		;;
	gws) echo "$BIN/gws-echo -addr $addr" ;;
	gorilla) echo "$BIN/gorilla-echo -addr $addr" ;;
	nbio) echo "$BIN/nbio-echo -addr $addr" ;;
	gnet) echo "$BIN/gnet-echo -addr $addr" ;;
	*)
		log "bench: unknown server $name"
		return 1
		;;
	esac
}

# start_server NAME ADDR LOG: starts it pinned (and capped), sets SRV_PID,
# waits for its "listening" line. Fails if it does not come up.
start_server() {
	local name=$1 addr=$2 logf=$3 cmd
	cmd=$(server_cmd "$name" "$addr")
	if [ -n "$CG" ]; then
		# join the cgroup first, then become the server (same PID)
		# shellcheck disable=SC2086
		bash -c 'echo $$ >"$0" && exec "$@"' "$CG/cgroup.procs" taskset -c "$SERVER_CORE" $cmd >"$logf" 2>&1 &
	else
		# shellcheck disable=SC2086
		taskset -c "$SERVER_CORE" $cmd >"$logf" 2>&1 &
	fi
	SRV_PID=$!
	await_listening "$name" "$logf" bench
}

# load_args SCENARIO: wsload arguments for a scenario
load_args() {
	local sc=$1
	case $sc in
	a) echo "-conns 100 -inflight 1 -size 32" ;;
	b) echo "-conns 1000 -inflight 8 -size 128" ;;
	c) echo "-conns 16 -inflight 16 -size 16384" ;;
	d) echo "-idle -conns $IDLE_CONNS -sources $IDLE_SOURCES" ;;
	*)
		log "bench: unknown scenario $sc"
		return 1
		;;
	esac
	[ "$sc" = d ] && return 0
	echo "-duration $DURATION -warmup $WARMUP -drain $DRAIN -type $TYPE"
}

PORT=$BASE_PORT
RUN_LINE=""

# run_one SCENARIO SERVER ROUND: one measured run, appended to runs.jsonl;
# a run disturbed by other processes is repeated (RERUN_NOISY times).
run_one() {
	local sc=$1 name=$2 round=$3 attempt others line
	for attempt in $(seq 0 "$RERUN_NOISY"); do
		attempt_one "$sc" "$name" "$round"
		line=$RUN_LINE
		others=$(printf '%s' "$line" | grep -o '"others_cpu_pct":[0-9.]*' | cut -d: -f2 || true)
		if [ -n "$others" ] && [ "$attempt" -lt "$RERUN_NOISY" ] &&
			awk -v o="$others" -v n="$NOISE" 'BEGIN { exit !(o > n) }'; then
			log "bench: [$sc-$name-$round] other processes used ${others}% of a core: run again"
			printf '%s\n' "$line" >>"$RUN_DIR/noisy.jsonl"
			continue
		fi
		break
	done
	printf '%s\n' "$line" >>"$RUN_DIR/runs.jsonl"
}

# attempt_one SCENARIO SERVER ROUND: one run; sets RUN_LINE to its
# runs.jsonl line (not printed: SRV_PID and PORT must stay in this shell)
attempt_one() {
	local sc=$1 name=$2 round=$3 mode=ws tag limit args alive=true rc=0 result tries
	[ "$name" = gnet ] && mode=raw
	tag="$sc-$name-$round"
	args=$(load_args "$sc" | tr '\n' ' ')
	if [ "$sc" = d ]; then
		args="$args -duration $IDLE_HOLD"
		limit=$(($(seconds "$IDLE_HOLD") + 180))
	else
		limit=$(($(seconds "$DURATION") + $(seconds "$WARMUP") + $(seconds "$DRAIN") + 60))
	fi
	wait_quiet
	for tries in 1 2 3; do
		PORT=$((PORT + 1))
		if start_server "$name" "127.0.0.1:$PORT" "$RUN_DIR/$tag.server.log"; then
			break
		fi
		if [ "$tries" = 3 ]; then
			log "bench: $tag: server would not start, skipped"
			RUN_LINE=$(printf '{"scenario":"%s","server":"%s","round":%d,"cap":"%s","rc":-1,"server_alive":false,"result":null}' \
				"$sc" "$name" "$round" "$CAP")
			return 0
		fi
	done
	log "bench: [$tag] $name on 127.0.0.1:$PORT (pid $SRV_PID): wsload -mode $mode $args"
	# shellcheck disable=SC2086
	taskset -c "$LOAD_CORE" timeout -k 5 "$limit" "$BIN/wsload" -mode "$mode" -addr "127.0.0.1:$PORT" \
		-pid "$SRV_PID" -json -label "$tag" $args >"$RUN_DIR/$tag.json" 2>"$RUN_DIR/$tag.wsload.log" &
	LOAD_PID=$!
	wait "$LOAD_PID" || rc=$?
	LOAD_PID=""
	kill -0 "$SRV_PID" 2>/dev/null || alive=false
	stop_server
	result=$(tail -n 1 "$RUN_DIR/$tag.json")
	case $result in
	'{'*) ;;
	*) result=null ;;
	esac
	if [ "$result" = null ] || [ "$rc" != 0 ] || [ "$alive" != true ]; then
		log "bench: [$tag] wsload exit $rc, server alive: $alive; see $RUN_DIR/$tag.*"
	fi
	sleep 1 # let the sockets of this run close before the next
	RUN_LINE=$(printf '{"scenario":"%s","server":"%s","round":%d,"cap":"%s","rc":%d,"server_alive":%s,"result":%s}' \
		"$sc" "$name" "$round" "$CAP" "$rc" "$alive" "$result")
}

machine() {
	echo "- CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) cores"
	echo "- kernel: $(uname -sr)"
	echo "- Go: $(go version | cut -d' ' -f3-)"
	echo "- open files per process: $(ulimit -n)"
}

main() {
	if [ "${1:-}" = build ]; then
		build
		return 0
	fi
	[ "$BUILD" = 1 ] && build
	for b in volley wsload benchreport gorilla-echo gws-echo nbio-echo gnet-echo; do
		[ -x "$BIN/$b" ] || { log "bench: $BIN/$b missing (run with BUILD=1)"; exit 1; }
	done
	VOLLEY_API=0
	local help
	help=$("$BIN/volley" -h 2>&1 || true)
	case $help in
	*-api*) VOLLEY_API=1 ;;
	esac
	local servers=()
	for s in $SERVERS; do
		if [ "$s" = volley-event ] && [ "$VOLLEY_API" = 0 ]; then
			log "bench: this volley has no -api flag: volley-event skipped, volley-blocking runs the default"
			continue
		fi
		servers+=("$s")
	done

	local stamp suffix=""
	stamp=$(date +%Y%m%d-%H%M%S)
	[ -n "$CAP" ] && suffix="-capped$CAP"
	RUN_DIR="$RESULTS/$stamp$suffix"
	mkdir -p "$RUN_DIR"
	: >"$RUN_DIR/runs.jsonl"

	if [ -n "$CAP" ]; then
		cap_cgroup
	fi

	log "bench: results in $RUN_DIR"
	local sc round name rounds
	for sc in $SCENARIOS; do
		rounds=$ROUNDS
		[ "$sc" = d ] && rounds=$IDLE_ROUNDS
		for round in $(seq 1 "$rounds"); do
			for name in "${servers[@]}"; do
				run_one "$sc" "$name" "$round"
			done
		done
	done

	{
		echo "## Echo benchmark $stamp${CAP:+ (server capped at $CAP core)}"
		echo
		machine
		echo "- settings: ROUNDS=$ROUNDS DURATION=$DURATION WARMUP=$WARMUP TYPE=$TYPE SCENARIOS=\"$SCENARIOS\" IDLE_CONNS=$IDLE_CONNS IDLE_HOLD=$IDLE_HOLD CAP=${CAP:-none}; servers on core $SERVER_CORE, wsload on core $LOAD_CORE"
		echo "- raw results: $RUN_DIR/"
		"$BIN/benchreport" -server-core "$SERVER_CORE" -load-core "$LOAD_CORE" -noise "$NOISE" "$RUN_DIR/runs.jsonl"
	} >"$RUN_DIR/report.md"
	cp "$RUN_DIR/report.md" "$RESULTS/latest.md"
	[ -n "$CAP" ] && cp "$RUN_DIR/report.md" "$RESULTS/latest-capped.md"
	cat "$RUN_DIR/report.md"
}

main "$@"

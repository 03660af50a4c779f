#!/usr/bin/env bash
# Fan-out (broadcast) benchmark: volley's topics (event and blocking APIs),
# the same server with a registry of connections instead of topics, and the
# peers' broadcast as their documentation shows it (gws's Broadcaster,
# gorilla's chat hub with PreparedMessage, an nbio hub), driven by
# bench/bin/fanload. Every server subscribes each connection to one topic;
# each message a connection sends goes to every connection, the sender
# included.
#
# Each server runs pinned to SERVER_CORE, fanload to LOAD_CORE; with CAP set
# (make bench-fanout sets 0.5) the server also runs in a cgroup (v1 cpu
# controller) limited to CAP of a core. Servers are interleaved over ROUNDS
# rounds; the tables give medians. Raw results: bench/results/<run>-fanout*/
# (runs.jsonl, one JSON file and the logs per run); the tables: stdout,
# report.md there and bench/results/latest-fanout.md.
#
# Scenarios (SCENARIOS="f1 f2 f3 steady-f2" picks), SIZE-byte messages:
#   f1         1,000 subscribers, 1 publisher, 16 publishes in flight
#   f2         10,000 subscribers, 1 publisher, 4 in flight
#   f3         1,000 subscribers, 100 publishers, 4 in flight each
#   steady-f2  10,000 subscribers, 1 publisher at STEADY_RATE publishes/s
#              (at most 64 in flight): latency, and the server's VmRSS during
#              the traffic against its VmRSS with the same connections idle
#
# volley-event-b and volley-blocking-b (in SERVERS) run VOLLEY_FANOUT_B, a
# build of bench/cmd/volley-fanout at another commit, for an A/B in one run:
#   git worktree add /tmp/base BASE && go -C /tmp/base build -o "$PWD/bench/bin/volley-fanout-b" ./bench/cmd/volley-fanout
#   SERVERS="volley-event volley-event-b" bench/scripts/bench-fanout.sh
#
# Every setting below can be overridden from the environment.
# "bench/scripts/bench-fanout.sh build" only builds the binaries into bench/bin/.
set -euo pipefail
cd "$(dirname "$0")/../.."

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5s}
WARMUP=${WARMUP:-1s}
DRAIN=${DRAIN:-3s}                 # the drain ends once every publish reached every subscriber, or nothing arrived for DRAIN ...
DRAIN_MAX=${DRAIN_MAX:-20s}        # ... or after DRAIN_MAX (what is missing then counts as undelivered, not lost)
SETTLE=${SETTLE:-1s}               # between the last handshake and the first publish
SCENARIOS=${SCENARIOS:-f1 f2 f3 steady-f2}
SERVERS=${SERVERS:-volley-event volley-blocking volley-registry gws gorilla nbio}
SIZE=${SIZE:-128}
TYPE=${TYPE:-binary}
STEADY_RATE=${STEADY_RATE:-50}
SOURCES=${SOURCES:-4}              # loopback source addresses for the connections
CAP=${CAP:-}                       # e.g. 0.5: server limited to half a core (cgroup v1)
SERVER_CORE=${SERVER_CORE:-0}
LOAD_CORE=${LOAD_CORE:-1}
BASE_PORT=${BASE_PORT:-21000}      # one new port per run, below the ephemeral range
QUIET_MAX=${QUIET_MAX:-20}         # before each run, wait for both cores to be at most this % busy ...
QUIET_WAIT=${QUIET_WAIT:-60}       # ... for at most this many seconds
NOISE=${NOISE:-10}                 # flag runs where other processes used more than this % of a core ...
RERUN_NOISY=${RERUN_NOISY:-2}      # ... and run them again up to this many times (discarded runs: noisy.jsonl)
VOLLEY_FANOUT_B=${VOLLEY_FANOUT_B:-bench/bin/volley-fanout-b}
PROFILE=${PROFILE:-0}              # 1: the volley servers write a CPU profile per run (<run>.pprof)
BUILD=${BUILD:-1}
RESULTS=${RESULTS:-bench/results}
CGROUP_ROOT=${CGROUP_ROOT:-/sys/fs/cgroup/cpu}

BIN=bench/bin
SRV_PID=""
LOAD_PID=""
CG=""

log() { printf '%s\n' "$*" >&2; }

TAG=bench-fanout
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
trap 'log "bench-fanout: interrupted"; exit 130' INT TERM

build() {
	mkdir -p "$BIN"
	log "bench-fanout: building into $BIN/"
	go build -o "$BIN/volley-fanout" ./bench/cmd/volley-fanout
	go build -o "$BIN/fanload" ./bench/cmd/fanload
	(cd bench/peers && for p in gws-fanout gorilla-fanout nbio-fanout; do
		go build -o "../bin/$p" "./cmd/$p"
	done)
}

# server_cmd NAME ADDR SCENARIO TAG: the command line of a server, on stdout
server_cmd() {
	local name=$1 addr=$2 sc=$3 tag=$4 prof=""
	[ "$PROFILE" = 1 ] && prof="-cpuprofile $RUN_DIR/$tag.pprof"
	case $name in
	volley-event) echo "$BIN/volley-fanout -addr $addr -api event $prof" ;;
	volley-blocking) echo "$BIN/volley-fanout -addr $addr -api blocking $prof" ;;
	volley-registry) echo "$BIN/volley-fanout -addr $addr -api event -mode registry $prof" ;;
	volley-registry-blocking) echo "$BIN/volley-fanout -addr $addr -api blocking -mode registry $prof" ;;
	volley-event-b) echo "$VOLLEY_FANOUT_B -addr $addr -api event $prof" ;;
	volley-blocking-b) echo "$VOLLEY_FANOUT_B -addr $addr -api blocking $prof" ;;
	gws) echo "$BIN/gws-fanout -addr $addr" ;;
	gorilla)
		# the chat example's 256-message queue drops subscribers when 100
		# publishers keep 4 messages each in flight: f3 gets room for 1024
		if [ "$sc" = f3 ]; then
			echo "$BIN/gorilla-fanout -addr $addr -queue 1024"
		else
			echo "$BIN/gorilla-fanout -addr $addr"
		fi
		;;
	nbio) echo "$BIN/nbio-fanout -addr $addr" ;;
	*)
		log "bench-fanout: unknown server $name"
		return 1
		;;
	esac
}

# start_server NAME ADDR SCENARIO TAG LOG: starts it pinned (and capped),
# sets SRV_PID, waits for its "listening" line.
start_server() {
	local name=$1 addr=$2 sc=$3 tag=$4 logf=$5 cmd
	cmd=$(server_cmd "$name" "$addr" "$sc" "$tag")
	if [ -n "$CG" ]; then
		# join the cgroup first, then become the server (same PID)
		# shellcheck disable=SC2086
		bash -c 'echo $$ >"$0" && exec "$@"' "$CG/cgroup.procs" taskset -c "$SERVER_CORE" $cmd >"$logf" 2>&1 &
	else
		# shellcheck disable=SC2086
		taskset -c "$SERVER_CORE" $cmd >"$logf" 2>&1 &
	fi
	SRV_PID=$!
	await_listening "$name" "$logf" bench-fanout
}

# load_args SCENARIO: fanload arguments for a scenario
load_args() {
	case $1 in
	f1) echo "-subs 1000 -pubs 1 -window 16" ;;
	f2) echo "-subs 10000 -pubs 1 -window 4" ;;
	f3) echo "-subs 1000 -pubs 100 -window 4" ;;
	steady-f2) echo "-subs 10000 -pubs 1 -window 64 -rate $STEADY_RATE" ;;
	*)
		log "bench-fanout: unknown scenario $1"
		return 1
		;;
	esac
	echo "-size $SIZE -type $TYPE -sources $SOURCES -duration $DURATION -warmup $WARMUP -drain $DRAIN -drain-max $DRAIN_MAX -settle $SETTLE"
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
			log "bench-fanout: [$sc-$name-$round] other processes used ${others}% of a core: run again"
			printf '%s\n' "$line" >>"$RUN_DIR/noisy.jsonl"
			continue
		fi
		break
	done
	printf '%s\n' "$line" >>"$RUN_DIR/runs.jsonl"
}

# attempt_one SCENARIO SERVER ROUND: one run; sets RUN_LINE
attempt_one() {
	local sc=$1 name=$2 round=$3 tag limit args alive=true rc=0 result tries
	tag="$sc-$name-$round"
	args=$(load_args "$sc" | tr '\n' ' ')
	# opening 10,000 connections to a capped server takes a while: 120 s
	limit=$(($(seconds "$DURATION") + $(seconds "$WARMUP") + $(seconds "$DRAIN_MAX") + $(seconds "$SETTLE") + 120))
	wait_quiet
	for tries in 1 2 3; do
		PORT=$((PORT + 1))
		if start_server "$name" "127.0.0.1:$PORT" "$sc" "$tag" "$RUN_DIR/$tag.server.log"; then
			break
		fi
		if [ "$tries" = 3 ]; then
			log "bench-fanout: $tag: server would not start, skipped"
			RUN_LINE=$(printf '{"scenario":"%s","server":"%s","round":%d,"cap":"%s","rc":-1,"server_alive":false,"result":null}' \
				"$sc" "$name" "$round" "$CAP")
			return 0
		fi
	done
	log "bench-fanout: [$tag] $name on 127.0.0.1:$PORT (pid $SRV_PID): fanload $args"
	# shellcheck disable=SC2086
	taskset -c "$LOAD_CORE" timeout -k 5 "$limit" "$BIN/fanload" -addr "127.0.0.1:$PORT" \
		-pid "$SRV_PID" -json -label "$tag" $args >"$RUN_DIR/$tag.json" 2>"$RUN_DIR/$tag.fanload.log" &
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
		log "bench-fanout: [$tag] fanload exit $rc, server alive: $alive; see $RUN_DIR/$tag.*"
	fi
	sleep 1 # let the sockets of this run close before the next
	RUN_LINE=$(printf '{"scenario":"%s","server":"%s","round":%d,"cap":"%s","rc":%d,"server_alive":%s,"result":%s}' \
		"$sc" "$name" "$round" "$CAP" "$rc" "$alive" "$result")
}

machine() {
	echo "- CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) cores"
	echo "- kernel: $(uname -sr)"
	echo "- Go: $(go version | cut -d' ' -f3-)"
	echo "- commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo ' (modified)')"
	echo "- open files per process: $(ulimit -n)"
}

main() {
	if [ "${1:-}" = build ]; then
		build
		return 0
	fi
	[ "$BUILD" = 1 ] && build
	for b in volley-fanout fanload gws-fanout gorilla-fanout nbio-fanout; do
		[ -x "$BIN/$b" ] || { log "bench-fanout: $BIN/$b missing (run with BUILD=1)"; exit 1; }
	done
	if [ "$(ulimit -n)" -lt 10100 ]; then
		ulimit -n 20000 2>/dev/null || { log "bench-fanout: 10,000 connections need more than $(ulimit -n) open files"; exit 1; }
	fi

	local stamp suffix="-fanout"
	stamp=$(date +%Y%m%d-%H%M%S)
	[ -n "$CAP" ] && suffix="-fanout-capped$CAP"
	RUN_DIR="$RESULTS/$stamp$suffix"
	mkdir -p "$RUN_DIR"
	: >"$RUN_DIR/runs.jsonl"

	if [ -n "$CAP" ]; then
		cap_cgroup
	fi

	log "bench-fanout: results in $RUN_DIR"
	local sc round name
	for sc in $SCENARIOS; do
		for round in $(seq 1 "$ROUNDS"); do
			for name in $SERVERS; do
				run_one "$sc" "$name" "$round"
			done
		done
	done

	{
		echo "## Fan-out benchmark $stamp${CAP:+ (server capped at $CAP core)}"
		echo
		machine
		echo "- settings: ROUNDS=$ROUNDS DURATION=$DURATION WARMUP=$WARMUP DRAIN=$DRAIN DRAIN_MAX=$DRAIN_MAX SETTLE=$SETTLE SIZE=$SIZE TYPE=$TYPE STEADY_RATE=$STEADY_RATE SCENARIOS=\"$SCENARIOS\" CAP=${CAP:-none}; servers on core $SERVER_CORE, fanload on core $LOAD_CORE"
		echo "- raw results: $RUN_DIR/"
		"$BIN/fanload" report -noise "$NOISE" "$RUN_DIR/runs.jsonl"
	} >"$RUN_DIR/report.md"
	cp "$RUN_DIR/report.md" "$RESULTS/latest-fanout.md"
	cat "$RUN_DIR/report.md"
}

main "$@"

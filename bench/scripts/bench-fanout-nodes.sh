#!/usr/bin/env bash
# Fan-out across nodes: f1 (SUBS subscribers of one topic, one publisher
# with WINDOW publishes in flight, SIZE-byte messages) against one volley
# node, and against two volley nodes joined by a nats-server, with the
# subscribers split over both (the publisher on the first). Both run
# cmd/volley's chat room (/chat?room=bench: every message a member sends
# goes to every member, the sender included) with -api API.
#
# It reports, per setup, the medians over ROUNDS interleaved rounds of
# deliveries/s and delivery latency p50/p99, and for the cluster the
# nats-server's own counters (its monitoring endpoint /varz): the messages
# it received and sent per publish. Each publish should cross NATS once:
# one message in (from the publishing node) and one out (to the other node;
# NoEcho keeps it from coming back to its own).
#
# The volley nodes and nats-server run on SERVER_CORE, fanload on
# LOAD_CORE; nothing is capped. Results: bench/results/<run>-nodes/
# (runs.jsonl, the logs, report.md) and bench/results/latest-nodes.md.
# Needs nats-server (Debian's package; .ci/deps.sh installs it).
set -euo pipefail
cd "$(dirname "$0")/../.."

ROUNDS=${ROUNDS:-3}
SUBS=${SUBS:-1000}
WINDOW=${WINDOW:-16}
SIZE=${SIZE:-128}
API=${API:-event}
DURATION=${DURATION:-5s}
SERVER_CORE=${SERVER_CORE:-0}
LOAD_CORE=${LOAD_CORE:-1}
BASE_PORT=${BASE_PORT:-22000}
RESULTS=${RESULTS:-bench/results}

log() { printf 'bench-fanout-nodes: %s\n' "$*" >&2; }

command -v nats-server >/dev/null || { log "nats-server is missing (apt-get install nats-server)"; exit 1; }
. bench/scripts/lib/server.sh
mkdir -p bench/bin
log "building cmd/volley and fanload into bench/bin/"
build_volley . bench/bin/volley
go build -o bench/bin/fanload ./bench/cmd/fanload

run="$(date -u +%Y%m%d-%H%M%S)-nodes"
dir="$RESULTS/$run"
mkdir -p "$dir"
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	for p in "${PIDS[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	PIDS=()
}
trap cleanup EXIT

# listening PORT: waits up to 10 s for 127.0.0.1:PORT to accept.
listening() {
	local i
	for i in $(seq 100); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	log "nothing listens on port $1"
	return 1
}

# varz PORT FIELD: a counter of the nats-server monitored on PORT.
varz() {
	curl -fsS "http://127.0.0.1:$1/varz" | python3 -c "import json,sys; print(json.load(sys.stdin)['$2'])"
}

port=$BASE_PORT
for round in $(seq "$ROUNDS"); do
	for setup in one two; do
		label="$setup-$round"
		a=$((port + 1)) b=$((port + 2)) np=$((port + 3)) mp=$((port + 4))
		port=$((port + 10))
		if [ "$setup" = one ]; then
			taskset -c "$SERVER_CORE" bench/bin/volley -addr "127.0.0.1:$a" -api "$API" >"$dir/$label.a.log" 2>&1 &
			PIDS+=($!)
			listening "$a"
			addrs="127.0.0.1:$a"
		else
			taskset -c "$SERVER_CORE" nats-server -a 127.0.0.1 -p "$np" -m "$mp" >"$dir/$label.nats.log" 2>&1 &
			PIDS+=($!)
			listening "$np"
			for p in "$a" "$b"; do
				taskset -c "$SERVER_CORE" bench/bin/volley -addr "127.0.0.1:$p" -api "$API" -nats "nats://127.0.0.1:$np" >"$dir/$label.$p.log" 2>&1 &
				PIDS+=($!)
				listening "$p"
			done
			addrs="127.0.0.1:$a,127.0.0.1:$b"
			in0=$(varz "$mp" in_msgs) out0=$(varz "$mp" out_msgs)
		fi
		log "[$label] fanload -subs $SUBS -window $WINDOW on $addrs"
		taskset -c "$LOAD_CORE" bench/bin/fanload -addr "$addrs" -path "/chat?room=bench" -subs "$SUBS" -pubs 1 \
			-window "$WINDOW" -size "$SIZE" -duration "$DURATION" -json -label "$label" >"$dir/$label.json" 2>"$dir/$label.fanload.log" ||
			log "[$label] fanload failed: see $dir/$label.fanload.log"
		if [ "$setup" = two ]; then
			in1=$(varz "$mp" in_msgs) out1=$(varz "$mp" out_msgs)
			python3 - "$dir/$label.json" "$((in1 - in0))" "$((out1 - out0))" <<'EOF'
import json, sys
path, nin, nout = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
r = json.load(open(path))
r["nats_in_msgs"], r["nats_out_msgs"] = nin, nout
json.dump(r, open(path, "w"))
EOF
		fi
		cat "$dir/$label.json" >>"$dir/runs.jsonl"
		echo >>"$dir/runs.jsonl"
		cleanup
	done
done

python3 - "$dir/runs.jsonl" "$SUBS" "$WINDOW" "$SIZE" "$API" "$ROUNDS" >"$dir/report.md" <<'EOF'
import json, statistics, sys
path, subs, window, size, api, rounds = sys.argv[1:]
runs = [json.loads(l) for l in open(path) if l.strip()]
def med(xs):
    return statistics.median(xs) if xs else float("nan")
print(f"#### f1 across nodes: {subs} subscribers, 1 publisher x window {window}, {size} B, -api {api}, {rounds} rounds (medians)\n")
print("| setup | deliveries/s | latency p50 / p99 ms | NATS msgs in / out per publish | lost | order errors |")
print("|---|---:|---:|---:|---:|---:|")
for setup, name in (("one", "one node"), ("two", "two nodes + nats-server")):
    rs = [r for r in runs if r.get("label", "").startswith(setup + "-")]
    dps = med([r["deliveries_per_s"] for r in rs])
    p50 = med([r["lat_us"]["p50"] / 1000 for r in rs if r.get("lat_us")])
    p99 = med([r["lat_us"]["p99"] / 1000 for r in rs if r.get("lat_us")])
    nats = "–"
    if setup == "two":
        pin = med([r["nats_in_msgs"] / r["published"] for r in rs if r.get("published")])
        pout = med([r["nats_out_msgs"] / r["published"] for r in rs if r.get("published")])
        nats = f"{pin:.2f} / {pout:.2f}"
    lost = sum(r.get("lost", 0) for r in rs)
    order = sum(r.get("order_errors", 0) for r in rs)
    print(f"| {name} | {dps:,.0f} | {p50:.1f} / {p99:.1f} | {nats} | {lost} | {order} |")
EOF
cp "$dir/report.md" "$RESULTS/latest-nodes.md"
cat "$dir/report.md"

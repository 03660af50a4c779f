# shellcheck shell=bash
# Sourced by bench/scripts/bench.sh and bench/scripts/hostile.sh: how cmd/volley is
# built (build_volley), and the server under test and the load generator,
# which the script starts in the background with their PIDs in SRV_PID and
# LOAD_PID, waited for and stopped here. The sourcing script defines log.

# build_volley TREE OUT: builds cmd/volley of the volley checkout in TREE
# into OUT (a path relative to the current directory, or absolute).
# cmd/volley is a module of its own since it joins clusters through the NATS
# broker; in a tree from before that, it is built from the root module.
build_volley() {
	local tree=$1 out=$2
	case $out in
	/*) ;;
	*) out=$PWD/$out ;;
	esac
	if [ -f "$tree/cmd/volley/go.mod" ]; then
		go -C "$tree/cmd/volley" build -o "$out" .
	else
		go -C "$tree" build -o "$out" ./cmd/volley
	fi
}

# await_listening NAME LOG TAG: waits up to 15 s for the server SRV_PID to
# print its "listening" line to LOG. If it exits first or stays silent, it
# fails, with the server stopped and a line (prefixed with TAG) saying why.
await_listening() {
	local name=$1 logf=$2 tag=$3 i
	for i in $(seq 1 150); do
		if grep -q "listening" "$logf" 2>/dev/null; then
			return 0
		fi
		if ! kill -0 "$SRV_PID" 2>/dev/null; then
			wait "$SRV_PID" 2>/dev/null || true
			SRV_PID=""
			log "$tag: $name exited before listening: $(tail -n 3 "$logf" | tr '\n' ' ')"
			return 1
		fi
		sleep 0.1
	done
	log "$tag: $name did not print its listening line in 15s"
	stop_server
	return 1
}

# stop_server: stops the server SRV_PID, if any (SIGTERM, then SIGKILL
# after 5 s), and clears SRV_PID.
stop_server() {
	[ -n "$SRV_PID" ] || return 0
	local i
	if kill -0 "$SRV_PID" 2>/dev/null; then
		kill -TERM "$SRV_PID" 2>/dev/null || true
		for i in $(seq 1 50); do
			kill -0 "$SRV_PID" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$SRV_PID" 2>/dev/null; then
			kill -KILL "$SRV_PID" 2>/dev/null || true
		fi
	fi
	wait "$SRV_PID" 2>/dev/null || true
	SRV_PID=""
}

# stop_load: stops the load generator LOAD_PID, if it still runs.
stop_load() {
	if [ -n "$LOAD_PID" ] && kill -0 "$LOAD_PID" 2>/dev/null; then
		kill -TERM "$LOAD_PID" 2>/dev/null || true
		wait "$LOAD_PID" 2>/dev/null || true
	fi
}

# shellcheck shell=bash
# Sourced by bench/scripts/bench.sh and bench/scripts/bench-fanout.sh: the
# machine side of a benchmark run. Waiting for the two benchmark cores
# (SERVER_CORE, LOAD_CORE) to be quiet (QUIET_MAX, QUIET_WAIT), the cgroup
# that caps the server (CAP of a core, under CGROUP_ROOT, in CG), and
# durations in whole seconds. The sourcing script defines log and sets TAG
# (its name, which prefixes its lines).

# seconds 1500ms|5s|2m -> whole seconds, rounded up
seconds() {
	local d=$1
	case $d in
	*ms) echo $(((${d%ms} + 999) / 1000)) ;;
	*s) echo "${d%s}" | awk '{printf "%d\n", ($1 == int($1)) ? $1 : int($1) + 1}' ;;
	*m) echo $((${d%m} * 60)) ;;
	*) echo "$d" ;;
	esac
}

# cores_busy: busy percentage of the busier of the two benchmark cores over 1 s
cores_busy() {
	local a b
	a=$(grep -E "^cpu($SERVER_CORE|$LOAD_CORE) " /proc/stat)
	sleep 1
	b=$(grep -E "^cpu($SERVER_CORE|$LOAD_CORE) " /proc/stat)
	paste <(echo "$a") <(echo "$b") | awk '{
		n = NF / 2; tot = 0; idle = 0
		for (i = 2; i <= n; i++) { d = $(i + n) - $i; tot += d; if (i == 5 || i == 6) idle += d }
		busy = tot > 0 ? 100 * (tot - idle) / tot : 0
		if (busy > max) max = busy
	} END { printf "%d\n", max }'
}

# wait_quiet: waits up to QUIET_WAIT seconds for both cores to be at most
# QUIET_MAX % busy; runs anyway after that (the run is flagged if disturbed).
wait_quiet() {
	local waited=0 busy
	while :; do
		busy=$(cores_busy)
		[ "$busy" -le "$QUIET_MAX" ] && return 0
		if [ "$waited" -ge "$QUIET_WAIT" ]; then
			log "$TAG: cores still ${busy}% busy after ${QUIET_WAIT}s: running anyway (the run is flagged if disturbed)"
			return 0
		fi
		[ "$waited" -eq 0 ] && log "$TAG: cores ${busy}% busy with other work: waiting up to ${QUIET_WAIT}s"
		sleep 2
		waited=$((waited + 3))
	done
}

# cap_cgroup: creates CG, a cgroup (v1 cpu controller) limited to CAP of a
# core, for the servers to run in; exits when there is no controller.
cap_cgroup() {
	[ -d "$CGROUP_ROOT" ] || { log "$TAG: no cgroup v1 cpu controller at $CGROUP_ROOT"; exit 1; }
	CG="$CGROUP_ROOT/volley-$TAG-$$"
	mkdir "$CG"
	echo 100000 >"$CG/cpu.cfs_period_us"
	awk -v c="$CAP" 'BEGIN { printf "%d\n", c * 100000 }' >"$CG/cpu.cfs_quota_us"
	log "$TAG: servers capped at $CAP core (cgroup $CG, quota $(cat "$CG/cpu.cfs_quota_us") µs per 100000 µs)"
}

# remove_cgroup: moves anything left in CG back to the root group and
# removes CG, if there is one.
remove_cgroup() {
	[ -n "$CG" ] && [ -d "$CG" ] || return 0
	while read -r p; do
		echo "$p" >"$CGROUP_ROOT/cgroup.procs" 2>/dev/null || true
	done <"$CG/cgroup.procs"
	rmdir "$CG" 2>/dev/null || log "$TAG: could not remove cgroup $CG"
}

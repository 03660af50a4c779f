# shellcheck shell=bash
# Sourced by .ci/test.sh, .ci/deps.sh, .ci/fuzz.sh and .ci/run:
# what they print, so that a test run reads as a short report.
#
#   == NAME                 a stage starts
#   install: chromium (apt) one line per package installed
#   ok    engine  1m17s  96 tests
#                           one line per package tested (internal/testreport)
#   -- NAME: ok (12.1s)     the stage ends
#
# and a summary at the end. The full output of every command (apt-get, npm,
# go vet, staticcheck, go test -json, ...) goes to a log directory, a new
# one under $TMPDIR (or /tmp) per run; a command's log is printed (apt's
# and npm's: the tail) only when it fails. The script that creates the log
# directory prints the summary; the scripts it runs share the directory
# (VOLLEY_REPORT_DIR, VOLLEY_REPORT_OWNER in the environment) and add their
# stages to it. Stage bodies run with set -e off (they are called in a
# condition), so they must check their own commands.

REPORT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
REPORT_OWNER=0
REPORT_FAILED=0
REPORT_TRIM="github.com/volley-ws/volley/" # import paths are shown without it
REPORT_STAGE=""
REPORT_STAGE_T0=0

report_now_ms() {
	local t=${EPOCHREALTIME:-}
	if [ -n "$t" ]; then
		t=${t/[.,]/}
		echo $((10#$t / 1000))
	else
		echo $(($(date +%s%N) / 1000000))
	fi
}
REPORT_T0=$(report_now_ms)

# report_dur MS: 0.3s, 12.1s, 3m07s
report_dur() {
	local ms=$1
	if [ "$ms" -lt 60000 ]; then
		printf '%d.%ds\n' $((ms / 1000)) $((ms % 1000 / 100))
	else
		printf '%dm%02ds\n' $((ms / 60000)) $((ms % 60000 / 1000))
	fi
}

# report_dir: makes sure the log directory exists, in VOLLEY_REPORT_DIR. A
# script run by one that has a log directory uses that one; otherwise this
# script creates it, owns it, and is the one to print the summary.
report_dir() {
	if [ -n "${VOLLEY_REPORT_OWNER:-}" ] && [ -d "${VOLLEY_REPORT_DIR:-}" ]; then
		return 0
	fi
	VOLLEY_REPORT_DIR=$(mktemp -d "${TMPDIR:-/tmp}/volley-test.XXXXXX")
	VOLLEY_REPORT_OWNER=$$
	export VOLLEY_REPORT_DIR VOLLEY_REPORT_OWNER
	REPORT_OWNER=1
}

# report_slug NAME: a file name for a stage or package name
report_slug() {
	printf '%s' "$1" | tr -cs 'A-Za-z0-9' '-' | sed 's/^-//; s/-$//'
}

# quietly [--tail] NAME CMD...: runs CMD with its output in the log NAME.log;
# when it fails, prints that output (with --tail, its last 40 lines: for
# apt-get and npm) and where the log is. Returns CMD's exit status.
quietly() {
	local tail=0 name log start rc=0 shown=()
	if [ "$1" = --tail ]; then
		tail=1
		shift
	fi
	name=$1
	shift
	report_dir
	log="$VOLLEY_REPORT_DIR/$(report_slug "$name").log"
	start=$(($(stat -c %s "$log" 2>/dev/null || echo 0) + 1))
	"$@" >>"$log" 2>&1 || rc=$?
	if [ "$rc" -eq 0 ]; then
		return 0
	fi
	# The command as a person would type it: without sudo, env and its
	# variables.
	shown=("$@")
	while [ ${#shown[@]} -gt 1 ]; do
		case ${shown[0]} in
		sudo | env | *=*) shown=("${shown[@]:1}") ;;
		*) break ;;
		esac
	done
	# Only this command's part of the log; of a line that progress
	# reports rewrote with carriage returns, only its last version.
	if [ "$tail" = 1 ]; then
		echo "${shown[*]} failed (exit status $rc); the last 40 lines of its output (all of it in $log):"
		tail -c +"$start" "$log" | sed 's/.*\r//' | tail -n 40 | sed 's/^/    | /' || true
	else
		echo "${shown[*]} failed (exit status $rc); its output (also in $log):"
		tail -c +"$start" "$log" | sed 's/.*\r//' |
			grep -v -E -e '^go: (downloading|finding) ' -e '^exit status [0-9]+$' | sed 's/^/    | /' || true
	fi
	return "$rc"
}

# stage NAME CMD...: runs CMD as a stage: "== NAME" first, "-- NAME: ok
# (time)" or "-- NAME: FAIL (time)" at the end, the result recorded for the
# summary. Returns 0 either way, setting REPORT_FAILED on a failure, so that
# the stages after it still run.
stage() {
	local name=$1 t0 ms rc=0 status=ok
	shift
	REPORT_STAGE=$name
	echo "== $name"
	t0=$(report_now_ms)
	REPORT_STAGE_T0=$t0
	"$@" || rc=$?
	ms=$(($(report_now_ms) - t0))
	if [ "$rc" -ne 0 ]; then
		status=FAIL
		REPORT_FAILED=1
	fi
	echo "-- $name: $status ($(report_dur "$ms"))"
	if [ -n "${VOLLEY_REPORT_DIR:-}" ] && [ -d "$VOLLEY_REPORT_DIR" ]; then
		printf '%s\t%s\t%s\n' "$name" "$status" "$ms" >>"$VOLLEY_REPORT_DIR/stages.tsv"
	fi
	REPORT_STAGE=""
	return 0
}

# in_dir DIR CMD...: CMD run in DIR (for the modules in subdirectories)
in_dir() {
	local dir=$1
	shift
	(cd "$dir" && "$@")
}

# apt_install PACKAGE...: installs Debian packages, printing a line for each
# and nothing of apt's own output unless it fails. Needs root or sudo.
apt_install() {
	local sudo=() p
	if [ "$(id -u)" -ne 0 ]; then
		sudo=(sudo)
	fi
	for p in "$@"; do
		echo "install: $p (apt)"
	done
	quietly --tail apt "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update &&
		quietly --tail apt "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -o DPkg::Lock::Timeout=600 "$@"
}

# report_reporter: builds internal/testreport into the log directory once,
# and prints its path; prints nothing when it does not build.
report_reporter() {
	local bin="$VOLLEY_REPORT_DIR/bin/testreport"
	if [ ! -x "$bin" ]; then
		(cd "$REPORT_ROOT" && go build -o "$bin" ./internal/testreport) >>"$VOLLEY_REPORT_DIR/testreport-build.log" 2>&1 || return 0
	fi
	echo "$bin"
}

# gotest [--fuzz] [--log NAME] ARGS...: go test -json ARGS in the current
# directory, reported by internal/testreport under the current stage: a
# line per package, the failing tests' output in full. The raw JSON goes to
# NAME.json in the log directory (NAME: the stage's name by default).
gotest() {
	local -
	set +e
	local fuzz=() name=$REPORT_STAGE bin raw err st rc
	while :; do
		case $1 in
		--fuzz) fuzz=(-fuzz); shift ;;
		--log) name=$2; shift 2 ;;
		*) break ;;
		esac
	done
	report_dir
	raw="$VOLLEY_REPORT_DIR/$(report_slug "$name").json"
	err="$VOLLEY_REPORT_DIR/$(report_slug "$name").stderr.log"
	bin=$(report_reporter)
	if [ -z "$bin" ]; then
		echo "internal/testreport does not build ($VOLLEY_REPORT_DIR/testreport-build.log): plain go test output follows"
		go test "$@"
		return
	fi
	go test -json "$@" 2>>"$err" |
		"$bin" -stage "$REPORT_STAGE" -dir "$VOLLEY_REPORT_DIR" -raw "$raw" -trim "$REPORT_TRIM" "${fuzz[@]}"
	st=("${PIPESTATUS[@]}")
	rc=0
	if [ "${st[0]}" -ne 0 ] || [ "${st[1]}" -ne 0 ]; then
		rc=1
	fi
	if [ "${st[0]}" -ne 0 ] && [ "${st[1]}" -eq 0 ]; then
		# go test failed but no package did: it could not run them, or
		# it was interrupted.
		echo "go test $* exited with status ${st[0]}, though no package failed"
		printf '%s\t%s\t%s\n' "$REPORT_STAGE" "go test" "[exit status ${st[0]}]" >>"$VOLLEY_REPORT_DIR/failed.tsv"
	fi
	if [ "$rc" -ne 0 ] && [ -s "$err" ]; then
		grep -v -e '^go: downloading ' -e '^go: finding ' "$err" | sed 's/^/    | /'
	fi
	if [ "$rc" -ne 0 ] && [ -z "${fuzz[*]}" ]; then
		echo "      go test -json output: $raw"
	fi
	return "$rc"
}

# report_summary [STATUS]: the summary of every stage recorded in the log
# directory, ending in PASS or FAIL; returns 1 on FAIL. STATUS: the exit
# status of anything else the caller ran (non-zero: FAIL).
report_summary() {
	local status=${1:-0} dir=${VOLLEY_REPORT_DIR:?} ms f jsons=""
	ms=$(($(report_now_ms) - REPORT_T0))
	touch "$dir/stages.tsv" "$dir/tests.tsv" "$dir/failed.tsv" "$dir/packages.txt"
	rm -rf "${dir:?}/bin" # the reporter, built for this run
	for f in "$dir"/*.json; do
		if [ -e "$f" ]; then jsons+="${jsons:+, }${f##*/}"; fi
	done
	echo "== summary"
	awk -F'\t' -v trim="$REPORT_TRIM" -v total="$(report_dur "$ms")" \
		-v dir="$dir" -v jsons="$jsons" -v status="$status" '
	function dur(ms) {
		if (ms < 60000) return sprintf("%d.%ds", int(ms / 1000), int(ms % 1000 / 100))
		return sprintf("%dm%02ds", int(ms / 60000), int(ms % 60000 / 1000))
	}
	FILENAME ~ /packages.txt$/ {
		if (!(($1, $2) in seen)) { seen[$1, $2] = 1; pk[$1]++ }
		if (!($2 in seenpkg)) { seenpkg[$2] = 1; npkgs++ }
		next
	}
	FILENAME ~ /tests.tsv$/ {
		te[$1] += $2; sk[$1] += $3; fa[$1] += $4
		tests += $2; skipped += $3; failed += $4
		next
	}
	FILENAME ~ /failed.tsv$/ {
		p = $2; if (index(p, trim) == 1) p = substr(p, length(trim) + 1)
		fs[++nf] = $1; fl[nf] = p " " $3; cnt[$1]++
		next
	}
	{
		n++; name[n] = $1; res[n] = $2; ms[n] = $3
		if (length($1) > w) w = length($1)
		if (length($2) > rw) rw = length($2)
		if ($2 != "ok") bad = bad (bad == "" ? "" : ", ") $1
	}
	END {
		for (i = 1; i <= n; i++) {
			s = name[i]
			line = sprintf("%-" w "s  %-" rw "s  %6s", s, res[i], dur(ms[i]))
			if (s in te) {
				line = line sprintf("  %d package%s, %d test%s", pk[s], pk[s] == 1 ? "" : "s", te[s], te[s] == 1 ? "" : "s")
				if (sk[s]) line = line sprintf(", %d skipped", sk[s])
				if (fa[s]) line = line sprintf(", %d failed", fa[s])
			}
			print line
		}
		print ""
		printf "packages: %d tested\n", npkgs + 0
		printf "tests:    %d run, %d failed, %d skipped\n", tests, failed, skipped
		# At most 20 names per stage (the stage printed them all).
		for (i = 1; i <= nf; i++) {
			if (i == 1 || fs[i] != fs[i - 1]) {
				printf "%s%s\n", i == 1 ? "failed:   " : "          ", fs[i]
				k = 0
			}
			if (++k <= 20) printf "            %s\n", fl[i]
			else if (k == 21) printf "            ... and %d more\n", cnt[fs[i]] - 20
		}
		printf "time:     %s\n", total
		printf "logs:     %s\n", dir
		if (jsons != "") printf "          go test -json output: %s\n", jsons
		if (bad == "" && status == 0 && nf == 0) {
			print "PASS"
			exit 0
		}
		if (bad == "") bad = "exit status " status
		print "FAIL (" bad ")"
		exit 1
	}' "$dir/packages.txt" "$dir/tests.tsv" "$dir/failed.tsv" "$dir/stages.tsv"
}

# report_finish: the end of a script that runs stages. The owner of the log
# directory prints the summary. Exits 1 when a stage failed.
report_finish() {
	local rc=$REPORT_FAILED
	if [ "$REPORT_OWNER" = 1 ]; then
		report_summary "$rc" || rc=1
	fi
	exit "$rc"
}

# report_interrupted: the INT/TERM trap of a script that runs stages.
report_interrupted() {
	trap - INT TERM
	echo "interrupted${REPORT_STAGE:+ during $REPORT_STAGE}"
	if [ -n "$REPORT_STAGE" ] && [ -n "${VOLLEY_REPORT_DIR:-}" ] && [ -d "$VOLLEY_REPORT_DIR" ]; then
		printf '%s\t%s\t%s\n' "$REPORT_STAGE" "interrupted" $(($(report_now_ms) - REPORT_STAGE_T0)) >>"$VOLLEY_REPORT_DIR/stages.tsv"
	fi
	if [ "$REPORT_OWNER" = 1 ]; then
		report_summary 130 || true
	fi
	exit 130
}

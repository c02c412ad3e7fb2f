#!/usr/bin/env bash
# Progress for the long phases, one plain line at a time (no carriage
# returns: CI logs stay readable).  Sourced by test.sh, vlab.sh and the
# fuzz and coverage scripts.

# vlab_generator_check DIR...: a build tree made with another generator than
# the presets' (Ninja; Unix Makefiles before 2026-12-04) would be refused by
# `cmake --preset`: its cache goes, so the next configure starts afresh (the
# first build after it redoes everything).
vlab_generator_check() {
	local dir
	for dir in "$@"; do
		[ -f "$dir/CMakeCache.txt" ] || continue
		grep -qx 'CMAKE_GENERATOR:INTERNAL=Ninja' "$dir/CMakeCache.txt" && continue
		echo "$dir: made with another generator than Ninja; configured afresh" >&2
		rm -rf "$dir/CMakeCache.txt" "$dir/CMakeFiles"
	done
}

# vlab_build ARGS...: cmake --build ARGS, printing on stderr one line per
# compile or link step ("[12/426] Building C object ...", or make's
# "[ 42%] ..."), and the whole output when the build fails.  Nothing when
# everything is up to date.
vlab_build() {
	local log rc
	log=$(mktemp)
	{ cmake --build "$@" 2>&1 && rc=0 || rc=$?; echo "$rc" >"$log.rc"; } |
		tee "$log" | grep --line-buffered -E '^\[ *[0-9]+(%|/[0-9]+)\] (Building|Linking)' >&2 || true
	rc=$(cat "$log.rc")
	[ "$rc" = 0 ] || cat "$log" >&2
	rm -f "$log" "$log.rc"
	return "$rc"
}

# vlab_fuzz_status LOG: libFuzzer's last statistics line in LOG
# ("#131072  pulse  cov: 812 ft: 2231 corp: 96/11Kb lim: 2048 exec/s: 6553 rss: 61Mb")
# as "131072 execs, 6553 exec/s, cov 812, corpus 96"; "starting" before the
# first one.  libFuzzer writes such a line when it finds something new and
# at every power of two executions.
vlab_fuzz_status() {
	awk '/^#[0-9]+[ \t]/ { line = $0 }
		END {
			if (line == "") { print "starting"; exit }
			n = split(line, f, /[ \t]+/)
			execs = substr(f[1], 2); eps = "?"; cov = "?"; corp = "?"
			for (i = 1; i < n; i++) {
				if (f[i] == "exec/s:") eps = f[i + 1]
				if (f[i] == "cov:") cov = f[i + 1]
				if (f[i] == "corp:") { corp = f[i + 1]; sub(/\/.*/, "", corp) }
			}
			printf "%s execs, %s exec/s, cov %s, corpus %s\n", execs, eps, cov, corp
		}' "$1" 2>/dev/null || echo "starting"
}

# vlab_fuzz_watch PID LOG NAME SECS: while the fuzzer PID (writing LOG)
# runs, a line every $VLAB_FUZZ_PROGRESS seconds (default 5) with its
# statistics; then its exit status.
vlab_fuzz_watch() {
	local pid=$1 log=$2 name=$3 secs=$4 t0=$SECONDS last=$SECONDS
	while kill -0 "$pid" 2>/dev/null; do
		sleep 1
		if [ $((SECONDS - last)) -ge "${VLAB_FUZZ_PROGRESS:-5}" ]; then
			last=$SECONDS
			echo "   $name: $((SECONDS - t0))/${secs}s, $(vlab_fuzz_status "$log")"
		fi
	done
	wait "$pid"
}

# vlab_pool JOBS EVERY START STATUS DONE NAME...: runs "START NAME" in the
# background for every NAME, JOBS at a time ("   NAME: started"); every
# EVERY seconds calls "STATUS NAME SECONDS" for each running one, and
# "DONE NAME SECONDS" when one ends (SECONDS: how long it has run).  Only
# the callbacks print, from this loop, so jobs running side by side never
# mix their lines.
# (fuzz/run.sh, fuzz/campaign.sh)
vlab_pool() {
	local jobs=$1 every=$2 start=$3 status=$4 done=$5 n
	shift 5
	local queue=("$@") last=$SECONDS report
	local -A pid=() began=()
	while [ ${#queue[@]} -gt 0 ] || [ ${#pid[@]} -gt 0 ]; do
		while [ ${#queue[@]} -gt 0 ] && [ ${#pid[@]} -lt "$jobs" ]; do
			n=${queue[0]}
			queue=("${queue[@]:1}")
			"$start" "$n" &
			pid[$n]=$!
			began[$n]=$SECONDS
			echo "   $n: started"
		done
		sleep 0.5
		report=$((SECONDS - last >= every))
		[ "$report" = 1 ] && last=$SECONDS
		for n in "${!pid[@]}"; do
			if kill -0 "${pid[$n]}" 2>/dev/null; then
				[ "$report" = 1 ] && "$status" "$n" $((SECONDS - began[$n]))
				continue
			fi
			wait "${pid[$n]}" || true
			unset "pid[$n]"
			"$done" "$n" $((SECONDS - began[$n]))
		done
	done
}

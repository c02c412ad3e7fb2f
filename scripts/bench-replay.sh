#!/usr/bin/env bash
# The record and replay figures (issue 11; a benchmark, not a test): for
# blk and net, on one QEMU row each (qemu-images/run-matrix.sh) and on the
# model,
#   - trace size per blk request and per net frame (bytes and lines);
#   - replay time against the recorded QEMU run's time: the replay run alone
#     (VLAB_REPLAY_TIMING: from hx_replay_new to hx_replay_finish, so
#     without process start-up and trace parsing) and the whole
#     `vlab-scenario replay` process, each against the QEMU process's wall
#     time and against the run's span in the trace (its last time minus its
#     first, the guest clock);
#   - record overhead on the model: `vlab-scenario run` with --record against
#     the same run without (whole process).
# Every figure is a ratio against a baseline measured in the same run of
# this script; times are medians of --reps runs.
#
#   scripts/bench-replay.sh [--reps N] [--target riscv64|aarch64]
#                           [--transport mmio-v2|...] [--work DIR]
#                           [--host-tool PATH] [--write-docs]
#
# --write-docs replaces the figures between the bench-replay markers of
# docs/trace-format.md ("Figures") with this run's.  Needs what
# run-matrix.sh needs (QEMU, a cross compiler, sfdisk): without it, exit 77.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/.." && pwd)
reps=5
target=riscv64
transport=mmio-v2
work=$src/build/bench-replay
host_tool=""
write_docs=0
while [ $# -gt 0 ]; do
	case $1 in
	--reps) reps=$2; shift ;;
	--target) target=$2; shift ;;
	--transport) transport=$2; shift ;;
	--work) work=$2; shift ;;
	--host-tool) host_tool=$2; shift ;;
	--write-docs) write_docs=1 ;;
	-h | --help) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "bench-replay.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
	esac
	shift
done
[[ $reps =~ ^[1-9][0-9]*$ ]] || { echo "bench-replay.sh: --reps wants a positive number, not '$reps'" >&2; exit 2; }
if [ -z "$host_tool" ]; then
	host_tool=$src/build/gcc/scenarios/vlab-scenario
	(cd "$src" && cmake --preset gcc >/dev/null && cmake --build --preset gcc --target vlab-scenario >/dev/null) ||
		{ echo "bench-replay.sh: building vlab-scenario failed" >&2; exit 1; }
fi
[ -x "$host_tool" ] || { echo "bench-replay.sh: no host tool at $host_tool" >&2; exit 1; }
host_tool=$(realpath "$host_tool")
rm -rf "$work" && mkdir -p "$work"

# Wall time of a command in microseconds (its output to $work/last.out/err).
wall_us() {
	local t0 t1
	t0=$(date +%s%N)
	"$@" >"$work/last.out" 2>"$work/last.err" || true
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000))
}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "-" }'; }
ms() { awk -v u="$1" 'BEGIN { printf "%.1f", u / 1000 }'; }

# ---- QEMU: one row per device, recorded by run-matrix.sh ----
rc=0
for dev in blk net; do
	bash "$src/qemu-images/run-matrix.sh" --ctest --host-tool "$host_tool" --work "$work/matrix" \
		--only "$target $transport $dev" >"$work/matrix-$dev.out" 2>&1 || rc=$?
	[ $rc = 77 ] && { cat "$work/matrix-$dev.out"; exit 77; }
	[ $rc = 0 ] || { echo "bench-replay.sh: the row '$target $transport $dev' failed:"; cat "$work/matrix-$dev.out"; exit 1; }
done

rows=()
for dev in blk net; do
	dir=$work/matrix/$target-$transport-$dev
	trace=$dir/qemu.trace
	bytes=$(stat -c %s "$trace")
	lines=$(wc -l <"$trace")
	# blk: a request is one status byte read (a 1-byte shm); net: the
	# frames sent and received (the transcript's stats line).
	if [ $dev = blk ]; then
		units=$(grep -cE '^[0-9]+ shm 0x[0-9a-f]+ 1 ' "$trace")
		unit=request
	else
		units=$(sed -n 's/^stats: tx \([0-9]*\) frames .* rx \([0-9]*\) frames.*/\1 \2/p' "$dir/qemu.transcript" |
			awk '{ print $1 + $2 }')
		unit=frame
	fi
	pubs=$(grep -cE '^[0-9]+ pub ' "$trace" || true)
	pubbytes=$(awk '$2 == "pub" { n += length($0) + 1 } END { print n + 0 }' "$trace")
	qemu_s=$(sed -n 's/.*; QEMU \([0-9.]*\)s, replay.*/\1/p' "$work/matrix-$dev.out")
	qemu_us=$(awk -v s="$qemu_s" 'BEGIN { printf "%d", s * 1e6 }')
	span_us=$(awk '$1 ~ /^[0-9]+$/ && $2 != "" { if (first == "") first = $1; last = $1 } END { printf "%d", (last - first) / 1000 }' "$trace")
	: >"$work/run.us"
	: >"$work/proc.us"
	for _ in $(seq "$reps"); do
		VLAB_REPLAY_TIMING=1 wall_us "$host_tool" replay "$trace" >>"$work/proc.us"
		grep -q 'the run matched the trace to its end' "$work/last.out" ||
			{ echo "bench-replay.sh: the replay of $trace did not match:"; grep -v '^T: ' "$work/last.out" | head; exit 1; }
		sed -n 's/^replay timing: \([0-9]*\) us .*/\1/p' "$work/last.err" >>"$work/run.us"
	done
	run_us=$(median <"$work/run.us")
	proc_us=$(median <"$work/proc.us")
	rows+=("$dev|$unit|$units|$bytes|$lines|$pubs|$pubbytes|$qemu_us|$span_us|$run_us|$proc_us")
done

# ---- the model: record overhead ----
model=()
mkdir -p "$work/model"
"$host_tool" mkdisk "$work/model/pristine.img"
"$host_tool" sfdisk-script | sfdisk -q --no-tell-kernel "$work/model/pristine.img"
for dev in blk net; do
	args=(run --scenario "$dev" --transport mmio --model-transport mmio)
	: >"$work/plain.us"
	: >"$work/rec.us"
	for _ in $(seq "$reps"); do
		[ $dev = blk ] && cp "$work/model/pristine.img" "$work/model/d.img"
		if [ $dev = blk ]; then extra=(--image "$work/model/d.img"); else extra=(); fi
		wall_us "$host_tool" "${args[@]}" "${extra[@]}" >>"$work/plain.us"
		[ $dev = blk ] && cp "$work/model/pristine.img" "$work/model/d.img"
		wall_us "$host_tool" "${args[@]}" "${extra[@]}" --record "$work/model/$dev.trace" >>"$work/rec.us"
	done
	model+=("$dev|$(median <"$work/plain.us")|$(median <"$work/rec.us")|$(stat -c %s "$work/model/$dev.trace")")
done

# ---- the figures ----
{
	echo "Produced by \`scripts/bench-replay.sh --write-docs\` ($(date -u +%Y-%m-%d), $target $transport on QEMU"
	echo "$(${TARGET_QEMU:-qemu-system-$target} --version 2>/dev/null | head -1 | sed 's/ *(.*//'), gcc preset, median of $reps runs; a"
	echo "machine shared with other jobs, so take the ratios, not the times)."
	echo
	echo "| | blk | net |"
	echo "|---|---|---|"
	IFS='|' read -r _ bu bn bb bl bp bpb bq bs br bpr <<<"${rows[0]}"
	IFS='|' read -r _ nu nn nb nl np npb nq ns nr npr <<<"${rows[1]}"
	echo "| QEMU trace | $bb bytes, $bl lines, $bn ${bu}s | $nb bytes, $nl lines, $nn ${nu}s |"
	echo "| per $bu / $nu | $((bb / bn)) bytes, $((bl / bn)) lines | $((nb / nn)) bytes, $((nl / nn)) lines |"
	echo "| of which \`pub\` lines | $bp lines, $bpb bytes ($(awk -v a="$bpb" -v b="$bb" 'BEGIN { printf "%d%%", 100 * a / b }')) | $np lines, $npb bytes ($(awk -v a="$npb" -v b="$nb" 'BEGIN { printf "%d%%", 100 * a / b }')) |"
	echo "| QEMU process (baseline) | $(ms "$bq") ms | $(ms "$nq") ms |"
	echo "| the run in the trace (guest clock) | $(ms "$bs") ms | $(ms "$ns") ms |"
	echo "| replay run alone (VLAB_REPLAY_TIMING) | $(ms "$br") ms: $(ratio "$bq" "$br")x faster than the QEMU process, $(ratio "$bs" "$br")x than the run | $(ms "$nr") ms: $(ratio "$nq" "$nr")x, $(ratio "$ns" "$nr")x |"
	echo "| \`vlab-scenario replay\` process | $(ms "$bpr") ms: $(ratio "$bq" "$bpr")x faster than the QEMU process | $(ms "$npr") ms: $(ratio "$nq" "$npr")x |"
	IFS='|' read -r _ mbp mbr mbt <<<"${model[0]}"
	IFS='|' read -r _ mnp mnr mnt <<<"${model[1]}"
	echo "| model run, mmio (baseline) | $(ms "$mbp") ms | $(ms "$mnp") ms |"
	echo "| model run with \`--record\` | $(ms "$mbr") ms: $(ratio "$mbr" "$mbp")x the run ($mbt bytes) | $(ms "$mnr") ms: $(ratio "$mnr" "$mnp")x ($mnt bytes) |"
} >"$work/figures.md"
cat "$work/figures.md"

if [ $write_docs = 1 ]; then
	doc=$src/docs/trace-format.md
	grep -q '^<!-- bench-replay: begin -->$' "$doc" && grep -q '^<!-- bench-replay: end -->$' "$doc" ||
		{ echo "bench-replay.sh: $doc has no bench-replay markers" >&2; exit 1; }
	awk -v f="$work/figures.md" '
		/^<!-- bench-replay: begin -->$/ { print; while ((getline l < f) > 0) print l; skip = 1; next }
		/^<!-- bench-replay: end -->$/ { skip = 0 }
		!skip { print }' "$doc" >"$work/doc.md"
	cp "$work/doc.md" "$doc"
	echo "bench-replay.sh: the figures are in $doc"
fi

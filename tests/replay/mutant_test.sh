#!/usr/bin/env bash
# A driver changed on purpose diverges at the expected trace line
# (docs/trace-format.md, "Finding a driver change with a trace"): the net
# scenario recorded with the normal vlab-scenario, replayed with each
# test-only mutant build (scenarios/CMakeLists.txt).  Each replay exits 1
# and its report names the trace line of the first differing event (found
# in the trace here, never a fixed number), what the trace expected there
# and what the mutant did instead: the trace's next event, since the
# mutant only moved or dropped one call.
# Arguments: <vlab-scenario> <scratch-dir> <mutant desc-high-first> <mutant no-avail-wmb>
set -euo pipefail
desc_high_first=$(realpath "${3:?usage: $0 <vlab-scenario> <scratch-dir> <mutant desc-high-first> <mutant no-avail-wmb>}")
no_avail_wmb=$(realpath "${4:?missing the no-avail-wmb mutant}")
. "$(dirname "$0")/../cli/lib.sh" "$1" "$2"

# The line number of the first event matching an extended regex.
line_of() { awk -v re="$2" '$0 ~ re { print NR; exit }' "$1"; }
# The event on line $2 without its time.
event_at() { awk -v n="$2" 'NR == n { $1 = ""; sub(/^ /, ""); print; exit }' "$1"; }
# The first platform-call event after line $2 (not dr/dw, not a comment).
next_call() {
	awk -v n="$2" 'NR > n && !/^#/ && $2 != "dr" && $2 != "dw" { $1 = ""; sub(/^ /, ""); print; exit }' "$1"
}
# The platform call an event stands for, as the report names it.
call_of() {
	local op=${1%% *} w
	case $op in
	p[rw][124] | [rw][124])
		w=$((8 * ${op: -1}))
		case ${op%?} in r) echo "mmio_read$w" ;; w) echo "mmio_write$w" ;; pr) echo "pio_read$w" ;; pw) echo "pio_write$w" ;; esac ;;
	sh[24]) echo shm_read ;;
	*) fail "call_of: no platform call name for event $1" ;;
	esac
}
# expect_divergence MUTANT TRACE LINE CALL: the mutant's replay of TRACE
# exits 1 and reports the divergence at LINE, the platform call CALL, the
# trace's event on LINE and, as what the driver did, the next call after it.
expect_divergence() {
	local mutant=$1 trace=$2 line=$3 call=$4
	[[ -n $line ]] || fail "$trace holds no event for this mutant to diverge at"
	local want did
	want=$(event_at "$trace" "$line")
	did=$(next_call "$trace" "$line")
	"$mutant" replay "$trace" >out.txt 2>&1 </dev/null && fail "$(basename "$mutant") matched $trace" || [[ $? == 1 ]] ||
		fail "$(basename "$mutant") replay $trace exited $?, expected 1"
	lines_in_order "replay: divergence at $trace:$line " "  platform call: $call" \
		"  the trace says: $want" "  the driver did: $did"
	[[ $(grep -c '^replay: divergence at ' out.txt) == 1 ]] || fail "more than one divergence reported"
	cp out.txt "$(basename "$mutant").$trace.out"
}

for t in mmio pci; do
	check "net on $t: recorded with the normal build, which replays it to its end"
	run 0 run --scenario net --transport "$t" --model-transport "$t" --record "$t.trace"
	run 0 replay "$t.trace"
	contains "the run matched the trace to its end"
done

# (a) QueueDescHigh written before QueueDescLow (mmio only): the trace's
#     first QueueDescLow write (offset 0x080 from the bind line's base) is
#     where the mutant writes QueueDescHigh (0x084) instead.
base=$(awk '$1 == "bind" { sub(/^base=/, "", $3); print $3; exit }' mmio.trace)
[[ $base == 0x* ]] || fail "no mmio base in the bind line of mmio.trace"
low=$(printf '0x%x' $((base + 0x80)))
high=$(printf '0x%x' $((base + 0x84)))
line=$(line_of mmio.trace "^[0-9]+ w4 $low ")
check "desc-high-first on mmio: divergence at mmio.trace:$line, the first QueueDescLow write"
expect_divergence "$desc_high_first" mmio.trace "$line" mmio_write32
contains "the driver did: w4 $high "

# (b) No write barrier before the avail index store (every transport): the
#     trace's first wmb is where the mutant makes its next call instead.
for t in mmio pci; do
	line=$(line_of "$t.trace" '^[0-9]+ wmb$')
	check "no-avail-wmb on $t: divergence at $t.trace:$line, the first wmb"
	expect_divergence "$no_avail_wmb" "$t.trace" "$line" "$(call_of "$(next_call "$t.trace" "$line")")"
	contains "the trace says: wmb"
	lacks "the driver did: wmb"
done
finish

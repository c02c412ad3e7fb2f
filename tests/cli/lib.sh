# Shared by the vlab CLI test scripts:  . "$(dirname "$0")/lib.sh" "$@"
# Arguments: <vlab-binary> <scratch-dir>.  Sets VLAB (absolute path), makes
# and enters the scratch directory, and defines the helpers below.  Each
# check says what it checks; the first failure stops the script with a
# message and a non-zero status.  A script ends with `finish`.
me=$(basename "$0")
VLAB=${1:?usage: $me <vlab-binary> <scratch-dir>}
WORK=${2:?usage: $me <vlab-binary> <scratch-dir>}
[[ -x $VLAB ]] || { echo "FAIL: $VLAB is not an executable" >&2; exit 1; }
VLAB=$(cd "$(dirname "$VLAB")" && pwd)/$(basename "$VLAB") # we cd below
rm -rf "$WORK"
mkdir -p "$WORK"
cd "$WORK"

checks=0
check() { checks=$((checks + 1)); printf 'check %2d: %s\n' "$checks" "$*"; }
fail() {
	printf 'FAIL: %s\n' "$*" >&2
	if [[ -f out.txt ]]; then
		printf -- '--- output was:\n' >&2
		cat out.txt >&2
		printf -- '---\n' >&2
	fi
	exit 1
}
# run <expected-status> args...: output (stdout+stderr) in out.txt
run() {
	local want=$1 got=0
	shift
	"$VLAB" "$@" >out.txt 2>&1 </dev/null || got=$?
	[[ $got == "$want" ]] || fail "vlab $* exited $got, expected $want"
}
contains() { grep -qF -- "$1" out.txt || fail "output lacks: $1"; }
lacks() { ! grep -qF -- "$1" out.txt || fail "output should not contain: $1"; }
# have_tool TOOL PACKAGE: true when TOOL is installed.  A check that needs
# a missing tool is never passed silently: the script goes on with the
# others, then `finish` exits 77 (CTest shows the test as skipped, not
# passed); with CI=true a missing tool fails at once.
skipped=()
have_tool() {
	command -v "$1" >/dev/null 2>&1 && return 0
	[[ ${CI:-} != true ]] || fail "$1 is not installed (Debian package $2); CI needs it"
	printf 'SKIP (part of check %d): %s is not installed (Debian package %s)\n' "$checks" "$1" "$2"
	[[ " ${skipped[*]} " == *" $1 "* ]] || skipped+=("$1")
	return 1
}
# lines_in_order TEXT...: out.txt has a line containing each TEXT, each
# after the line found for the one before (other lines between allowed).
lines_in_order() {
	local at=0 text line
	for text in "$@"; do
		line=$(tail -n +$((at + 1)) out.txt | grep -nF -m1 -- "$text" | cut -d: -f1 || true)
		[[ -n $line ]] || fail "output lacks, after line $at: $text (expected in order: $*)"
		at=$((at + line))
	done
}
finish() {
	if ((${#skipped[@]})); then
		echo "$checks checks run; parts skipped, missing: ${skipped[*]}"
		exit 77
	fi
	echo "all $checks checks passed"
}

# Shared by the vlab CLI test scripts:  . "$(dirname "$0")/lib.sh" "$@"
# Arguments: <vlab-binary> <scratch-dir>.  Sets VLAB (absolute path), makes
# and enters the scratch directory, and defines the helpers below.  Each
# check says what it checks; the first failure stops the script with a
# message and a non-zero status.
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

#!/usr/bin/env bash
# vlab's shell: tab completion, U-Boot's own answers to the same lines
# (tests/cli/uboot), and line editing and history at a terminal (a pty).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh" "$@"

check "tab completion: commands, subcommands, help's command, variables"
"$VLAB" --complete 'virt' >out.txt
[[ $(cat out.txt) == virtio ]] || fail "'virt' completes to: $(cat out.txt)"
"$VLAB" --complete 'virtio s' >out.txt
[[ $(cat out.txt) == scan ]] || fail "'virtio s' completes to: $(cat out.txt)"
"$VLAB" --complete 'echo a; virtio ' >out.txt
for w in scan info device part read write; do contains "$w"; done
"$VLAB" --complete 'help vers' >out.txt
[[ $(cat out.txt) == version ]] || fail "'help vers' completes to: $(cat out.txt)"
"$VLAB" --complete 'run load' >out.txt
[[ $(cat out.txt) == loadaddr ]] || fail "'run load' completes to: $(cat out.txt)"
"$VLAB" --complete 'if tr' >out.txt
[[ $(cat out.txt) == true ]] || fail "'if tr' completes to: $(cat out.txt)"
"$VLAB" --complete 'crc32 ' >out.txt
[[ ! -s out.txt ]] || fail "crc32's argument is no subcommand: $(cat out.txt)"

check "the lines U-Boot 2023.01 was given get U-Boot's answers (but the listed differences)"
python3 "$here/uboot/compare_shell.py" "$VLAB" "$here/uboot/qemu-arm64-shell.txt" \
	"$here/uboot/shell-differences.txt" >out.txt 2>&1 || fail "vlab answers otherwise than U-Boot"
contains 'lines compared with U-Boot'

check "at a terminal: line editing, history (Up), tab completion, the history file"
# grep reads all of ldd's output: with -q, ldd may die of SIGPIPE (pipefail).
if ldd "$VLAB" 2>/dev/null | grep libedit >/dev/null; then
	python3 "$here/shell_pty.py" "$VLAB" "$WORK" >out.txt 2>&1 || fail "the pty session failed"
else
	printf 'SKIP (part of check %d): vlab was built without libedit (Debian libedit-dev)\n' "$checks"
	[[ ${CI:-} != true ]] || fail "vlab was built without libedit; CI needs it"
	skipped+=(libedit)
fi

finish

#!/usr/bin/env bash
# Builds vlab (gcc preset) when needed and runs it with the given arguments.
#   ./vlab.sh -c 'virtio scan; virtio info; virtio part 0'
# What it installs or builds first is told on stderr (apt's lines, a line
# per build step); stdout is vlab's own.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/scripts/deps.sh"
. "$here/scripts/progress.sh"
vlab_install_deps
if [ ! -f "$here/build/gcc/CMakeCache.txt" ]; then
	echo "vlab.sh: configuring build/gcc (first run), then building vlab" >&2
fi
vlab_generator_check "$here/build/gcc"
log=$(mktemp)
cmake --preset gcc -S "$here" >"$log" 2>&1 || { cat "$log" >&2; rm -f "$log"; exit 1; }
rm -f "$log"
vlab_build "$here/build/gcc" --target vlab -j"$(nproc)"
exec "$here/build/gcc/harness/vlab" "$@"

#!/usr/bin/env bash
# Builds vlab (gcc preset) when needed and runs it with the given arguments.
#   ./vlab.sh -c 'virtio scan; virtio info; virtio part 0'
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/scripts/deps.sh"
vlab_install_deps
cmake --preset gcc -S "$here" >/dev/null
cmake --build "$here/build/gcc" --target vlab -j"$(nproc)" >/dev/null
exec "$here/build/gcc/harness/vlab" "$@"

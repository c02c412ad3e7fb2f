#!/usr/bin/env bash
# Runs every test: builds with gcc, clang, and clang + ASan/UBSan, and runs
# the whole CTest suite (all labels) in the gcc and sanitizer builds.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
. scripts/deps.sh
vlab_install_deps
jobs=$(nproc)
for preset in gcc clang asan; do
	echo "== build: $preset"
	cmake --preset "$preset" >/dev/null
	cmake --build --preset "$preset" -j"$jobs"
done
for preset in gcc asan; do
	echo "== ctest: $preset"
	ctest --preset "$preset" -j"$jobs"
done

#!/usr/bin/env bash
# Builds the driver in every build type the presets do not already cover,
# with -Werror as always: the host driver library with gcc (Debug, Release,
# MinSizeRel) and clang (the same, and RelWithDebInfo: test.sh builds no
# `clang` preset, the asan build being clang already) and the bare-metal images (Debug,
# RelWithDebInfo, MinSizeRel), and the minimal configuration of the
# driver (VLAB_CFG_* options off) with gcc and clang.  Optimisation levels change what the
# compilers warn about (gcc 12's -Wdangling-pointer fires at -O1 and above
# on some targets only), so a warning-free preset build proves nothing for
# the others.  Usage: scripts/build-types.sh [JOBS]
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${1:-$(nproc)}
build() { # dir, cmake args..., -- targets...
	local dir=$1
	shift
	local args=()
	while [ "$1" != "--" ]; do
		args+=("$1")
		shift
	done
	shift
	echo "build-types: $dir"
	cmake -S . -B "build/types/$dir" -DVLAB_BUILD_TESTS=OFF "${args[@]}" >/dev/null
	cmake --build "build/types/$dir" -j"$jobs" --target "$@" >/dev/null
}
for cc in gcc clang; do
	types=(Debug Release MinSizeRel)
	[ "$cc" = clang ] && types+=(RelWithDebInfo)
	for bt in "${types[@]}"; do
		build "$cc-$bt" -DCMAKE_C_COMPILER="$cc" -DCMAKE_BUILD_TYPE="$bt" -- vlab_driver vlab_driver_freestanding
	done
done
# The minimal configuration (docs/porting.md "Compile-time configuration"),
# through the CMake options: the library alone, at -Os.
minimal=()
for o in MMIO_LEGACY PCI PCI_LEGACY PCI_BRIDGE PACKED INDIRECT EVENT_IDX BLK_EXTRA NET RNG PART FS BUS LOG; do
	minimal+=("-DVLAB_CFG_$o=OFF")
done
for cc in gcc clang; do
	build "$cc-MinSizeRel-minimal" -DCMAKE_C_COMPILER="$cc" -DCMAKE_BUILD_TYPE=MinSizeRel "${minimal[@]}" -- \
		vlab_driver vlab_driver_freestanding
done
for target in riscv64 aarch64 riscv32 arm x86 x86_64; do
	for bt in Debug RelWithDebInfo MinSizeRel; do
		build "$target-$bt" --toolchain "qemu-images/cmake/$target.cmake" -DCMAKE_BUILD_TYPE="$bt" -- "vlab-$target"
	done
done
echo "build-types: every build type builds without a warning"

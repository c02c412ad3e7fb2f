#!/usr/bin/env bash
# Builds the driver in every build type the presets do not already cover,
# with -Werror as always: the host driver library with gcc and clang (Debug,
# Release, MinSizeRel, RelWithDebInfo: test.sh builds no `clang` preset, the
# asan build being clang already, and its gcc build compiles the library at
# -O0 for coverage) and the bare-metal images (Debug,
# RelWithDebInfo, MinSizeRel), and the minimal configuration of the
# driver (VLAB_CFG_* options off) with gcc and clang.  Optimisation levels change what the
# compilers warn about (gcc 12's -Wdangling-pointer fires at -O1 and above
# on some targets only), so a warning-free preset build proves nothing for
# the others.  Usage: scripts/build-types.sh [JOBS]
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${1:-$(nproc)}
# One configure per compiler or target, every build type from it (Ninja
# Multi-Config: CMake's compiler checks once, one ninja run keeps every core
# busy across the types).
build() { # dir, "Type;Type...", cmake args..., -- targets...
	local dir=$1 types=$2
	shift 2
	local args=()
	while [ "$1" != "--" ]; do
		args+=("$1")
		shift
	done
	shift
	local targets=() t
	for t in "$@"; do
		targets+=("$t:all")
	done
	echo "build-types: $dir ($types)"
	cmake -S . -B "build/types/$dir" -G "Ninja Multi-Config" -DCMAKE_CONFIGURATION_TYPES="$types" \
		-DCMAKE_CROSS_CONFIGS=all -DVLAB_BUILD_TESTS=OFF "${args[@]}" >/dev/null
	ninja -C "build/types/$dir" -j"$jobs" "${targets[@]}" >"build/types/$dir/build.log" 2>&1 ||
		{ cat "build/types/$dir/build.log" >&2; exit 1; }
}
# RelWithDebInfo with gcc too: test.sh's gcc build compiles the host
# library at -O0 (it counts coverage).  The freestanding objects of the same
# sources are not built again here: gcc compiles them in every type for the
# x86_64 image below (the host's own architecture) and the other five
# targets, and clang's warnings, the front end's, are the asan build's.
for cc in gcc clang; do
	build "$cc" "Debug;Release;MinSizeRel;RelWithDebInfo" -DCMAKE_C_COMPILER="$cc" -- vlab_driver
done
# The minimal configuration (docs/porting.md "Compile-time configuration"),
# through the CMake options: the library alone, at -Os.
minimal=()
for o in MMIO_LEGACY PCI PCI_LEGACY PCI_BRIDGE PACKED INDIRECT EVENT_IDX BLK_EXTRA BLK_DWZ NET RNG PART FS BUS LOG; do
	minimal+=("-DVLAB_CFG_$o=OFF")
done
for cc in gcc clang; do
	build "$cc-minimal" MinSizeRel -DCMAKE_C_COMPILER="$cc" "${minimal[@]}" -- vlab_driver vlab_driver_freestanding
done
for target in riscv64 aarch64 riscv32 arm x86 x86_64; do
	build "$target" "Debug;RelWithDebInfo;MinSizeRel" --toolchain "qemu-images/cmake/$target.cmake" -- "vlab-$target"
done
echo "build-types: every build type builds without a warning"

#!/usr/bin/env bash
# cmake --install of BUILD_DIR into a scratch prefix, then examples/minimal
# built against the installed package twice: find_package(virtio-lab) and
# pkg-config (virtio-lab.pc).  Sanitizer flags of the build are passed on
# (its library needs them at link time).
#   install_test.sh SOURCE_DIR BUILD_DIR SCRATCH [C_FLAGS]
set -eu
src=$1 build=$2 scratch=$3 flags=${4:-}
rm -rf "$scratch"
mkdir -p "$scratch"
cmake --install "$build" --prefix "$scratch/prefix" >"$scratch/install.log"
for h in abi.h blk.h platform.h virtio.h; do
	[ -f "$scratch/prefix/include/vlab/$h" ] || { echo "FAIL: include/vlab/$h not installed"; exit 1; }
done
ls "$scratch"/prefix/lib*/libvlab.a >/dev/null || { echo "FAIL: libvlab.a not installed"; exit 1; }
for from in package pkg-config; do
	if ! PKG_CONFIG_PATH=$(echo "$scratch"/prefix/lib*/pkgconfig) \
		cmake -S "$src/examples/minimal" -B "$scratch/$from" -DVLAB_FROM=$from \
		-DCMAKE_PREFIX_PATH="$scratch/prefix" -DCMAKE_C_FLAGS="$flags" \
		-DCMAKE_EXE_LINKER_FLAGS="$flags" >"$scratch/$from.log" 2>&1 ||
		! cmake --build "$scratch/$from" >>"$scratch/$from.log" 2>&1; then
		echo "FAIL: examples/minimal against the installed package ($from):"
		cat "$scratch/$from.log"
		exit 1
	fi
	echo "ok: examples/minimal built with VLAB_FROM=$from"
done

#!/usr/bin/env bash
# Installs what building and testing virtio-lab needs on Debian 12, when it
# is missing.  Sourced by vlab.sh, test.sh and .ci/run.
VLAB_PACKAGES=(build-essential cmake ninja-build python3 clang libclang-rt-14-dev llvm googletest libgtest-dev fdisk libpcap-dev tshark libedit-dev
	qemu-system-misc qemu-system-arm qemu-system-x86 gcc-riscv64-unknown-elf gcc-aarch64-linux-gnu gcc-arm-none-eabi
	gcc-i686-linux-gnu
	dosfstools mtools e2fsprogs
	iproute2 # the QEMU tap rows (qemu-images/run-matrix.sh): ip netns, ip tuntap
	u-boot-qemu # the uboot label (tests/uboot): Debian's U-Boot in QEMU, the output vlab is compared with
	gcovr # scripts/coverage.sh: coverage of driver/ (HTML, Cobertura)
	zip unzip # fuzz.cflite_build: ClusterFuzzLite's seed corpus archives (fuzz/build.sh, .clusterfuzzlite/local-build.sh)
	chromium) # chromium: the conformance report's HTML page, rendered headless (conformance.outputs)

# What the host builds (the gcc and asan presets) need: test.sh installs
# these first and the rest (QEMU, cross compilers, image tools, chromium) in
# the background while those builds run.
# python3: the gcc build's configure registers unit.public_headers only
# when it finds it.
VLAB_HOST_PACKAGES=(build-essential cmake ninja-build clang libclang-rt-14-dev llvm googletest libgtest-dev
	libpcap-dev libedit-dev python3)

vlab_missing_packages() { # [host]: only VLAB_HOST_PACKAGES
	local missing=() p
	local -a want=("${VLAB_PACKAGES[@]}")
	[ "${1:-}" = host ] && want=("${VLAB_HOST_PACKAGES[@]}")
	for p in "${want[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
	done
	echo "${missing[@]}"
}

vlab_install_deps() { # [host]: only what the host builds need
	local missing
	missing=$(vlab_missing_packages "${1:-}")
	[ -z "$missing" ] && return 0
	local sudo=""
	if [ "$(id -u)" != 0 ]; then
		if command -v sudo >/dev/null; then sudo=sudo; else
			echo "virtio-lab needs these Debian packages: $missing (run as root, or install them)" >&2
			return 1
		fi
	fi
	echo "installing: $missing" >&2
	# apt's own lines (Get:, Unpacking, Setting up ...) show the progress;
	# on stderr, so that a caller's output (vlab's) stays its own.
	# Once per run: .ci/run has updated already (VLAB_APT_UPDATED=1), and
	# test.sh's second call (the rest of the packages) follows its first.
	if [ "${VLAB_APT_UPDATED:-0}" != 1 ]; then
		$sudo apt-get update >&2
		export VLAB_APT_UPDATED=1
	fi
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y $missing >&2
}

#!/usr/bin/env bash
# The driver's code size (issue 15), as markdown on stdout: per part in the
# default configuration, then per configuration (vlab/config.h), for rv64
# and aarch64 at -Os.  A size is the sum of text, data and bss of the
# freestanding objects before linking; a configuration compiles every
# driver source with its VLAB_CFG_* values (a part compiled out is an empty
# object).  bench/run.sh puts it in docs/performance.md.
#
#   bench/size.sh [-j JOBS] [--target rv64|aarch64]
#
# --target: that column only (the other says n/a); exit 77 when its
# compiler is missing (CTest's bench.size: a skip).  Exit 1 when a source
# does not compile in some configuration.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/.." && pwd)
jobs=2
only=
while [ $# -gt 0 ]; do
	case $1 in
	-j) jobs=$2; shift ;;
	--target)
		only=${2:-}
		[[ $only =~ ^(rv64|aarch64)$ ]] || { echo "size.sh: --target wants rv64 or aarch64, not '$only'" >&2; exit 2; }
		shift ;;
	-h | --help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "size.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
	esac
	shift
done
[[ $jobs =~ ^[1-9][0-9]*$ ]] || { echo "size.sh: -j wants a positive number, not '$jobs'" >&2; exit 2; }

# part name: its sources (driver/...).
parts=(
	"core:core/virtio.c core/virtqueue_split.c core/virtqueue.c core/wait.c core/err.c core/libc.c core/abi.c"
	"packed:core/virtqueue_packed.c"
	"bus:core/bus.c core/registry.c"
	"mmio:transport/mmio.c"
	"pci:transport/pci.c transport/pci_enum.c transport/pci_legacy.c transport/pci_modern.c"
	"blk:blk/blk.c"
	"net:net/net.c net/net_csum.c"
	"rng:rng/rng.c"
	"part:part/part.c part/mbr.c part/gpt.c part/crc32.c"
	"fs:fs/fs.c fs/fat.c fs/ext.c"
)
# configuration label: the options turned off (VLAB_CFG_ names without the
# prefix; the legacy and bridge options follow their transport's).
lean="MMIO_LEGACY PCI_LEGACY PCI_BRIDGE PACKED INDIRECT EVENT_IDX BLK_EXTRA BLK_DWZ NET_EXTRA LOG"
configs=(
	"everything (the default):"
	"full: mmio + pci + blk + net:RNG PART FS"
	"full, lean:RNG PART FS $lean"
	"U-Boot's set (unit.config_uboot): mmio + pci, legacy and bridges, split ring, blk + net:RNG PART FS PACKED INDIRECT EVENT_IDX BLK_EXTRA BLK_DWZ NET_EXTRA"
	"U-Boot's set, no log text:RNG PART FS PACKED INDIRECT EVENT_IDX BLK_EXTRA BLK_DWZ NET_EXTRA LOG"
	"mmio + blk:PCI NET RNG PART FS BUS"
	"mid (unit.config_mid): mmio + pci + blk + bus, split ring:MMIO_LEGACY PCI_LEGACY PACKED NET RNG PART FS"
	"minimal (unit.config_minimal): mmio + blk, lean:PCI NET RNG PART FS BUS MMIO_LEGACY PACKED INDIRECT EVENT_IDX BLK_EXTRA BLK_DWZ LOG"
)
declare -A target_cc=(
	[rv64]="riscv64-unknown-elf-gcc -march=rv64imac_zicsr_zifencei -mabi=lp64 -mcmodel=medany"
	[aarch64]="aarch64-linux-gnu-gcc -mcpu=cortex-a57 -mstrict-align -mgeneral-regs-only"
)
declare -A target_size=([rv64]=riscv64-unknown-elf-size [aarch64]=aarch64-linux-gnu-size)
all=$(cd "$src/driver" && ls core/*.c transport/*.c blk/*.c net/*.c rng/*.c part/*.c fs/*.c)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

export src out
ok_targets=()
for t in rv64 aarch64; do
	[ -n "$only" ] && [ "$t" != "$only" ] && continue
	read -r -a cc <<<"${target_cc[$t]}"
	if command -v "${cc[0]}" >/dev/null && command -v "${target_size[$t]}" >/dev/null; then
		ok_targets+=("$t")
	else
		echo "size.sh: ${cc[0]} or ${target_size[$t]} missing: no $t column" >&2
		[ -n "$only" ] && exit 77
	fi
done
# bash cannot export arrays: the job list carries what one() needs.
for t in "${ok_targets[@]}"; do
	for c in "${!configs[@]}"; do
		for f in $all; do echo "$t $c $f"; done
	done
done | while read -r t c f; do
	echo "$t|$c|$f|${target_cc[$t]}|${target_size[$t]}|${configs[$c]##*:}"
done >"$out/jobs"
# One object's text + data + bss: "target|config|source|cc|size|options off".
job() {
	IFS='|' read -r t c f cc sz off <<<"$1"
	local defs=() o
	for o in $off; do defs+=("-DVLAB_CFG_$o=0"); done
	local obj=$out/$t-$c-${f//\//_}.o
	# shellcheck disable=SC2086
	$cc -std=c11 -Os -ffreestanding -fno-builtin -fno-stack-protector -fno-pic \
		-fno-asynchronous-unwind-tables -ffunction-sections "${defs[@]}" -I"$src/driver/include" \
		-c "$src/driver/$f" -o "$obj" || { echo "size.sh: $f does not compile for $t in configuration $c" >&2; return 1; }
	# The function's status is its last command's: without these checks a
	# source that did not compile only went missing from the sums.
	local line
	line=$($sz "$obj" | awk -v k="$t $c $f" 'NR == 2 { print k, $4 }') && [ -n "$line" ] ||
		{ echo "size.sh: no size for $obj" >&2; return 1; }
	echo "$line"
}
export -f job
tr '\n' '\0' <"$out/jobs" | xargs -0 -P "$jobs" -I{} bash -c 'job "$1"' _ {} >"$out/sizes" ||
	{ echo "size.sh: a compile failed" >&2; exit 1; }

kib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1024 }'; }
sum() { # target, config, files (all when empty)
	awk -v t="$1" -v c="$2" -v fl="$3" '
		BEGIN { n = split(fl, a, " "); for (i = 1; i <= n; i++) want[a[i]] = 1 }
		$1 == t && $2 == c && (n == 0 || ($3 in want)) { s += $4 }
		END { print s + 0 }' "$out/sizes"
}
measured() { [[ " ${ok_targets[*]} " == *" $1 "* ]]; }
echo "| part (default configuration) | rv64 -Os (bytes) | aarch64 -Os (bytes) |"
echo "| --- | ---: | ---: |"
for p in "${parts[@]}"; do
	row="| ${p%%:*} |"
	for t in rv64 aarch64; do
		if measured "$t"; then row="$row $(sum "$t" 0 "${p#*:}") |"; else row="$row n/a |"; fi
	done
	echo "$row"
done
echo
echo "| configuration: options off (VLAB_CFG_*) | rv64 -Os | aarch64 -Os |"
echo "| --- | ---: | ---: |"
for c in "${!configs[@]}"; do
	label=${configs[$c]%:*}
	off=${configs[$c]##*:}
	row="| $label: ${off:-none} |"
	for t in rv64 aarch64; do
		if measured "$t"; then row="$row $(kib "$(sum "$t" "$c" "")") KiB |"; else row="$row n/a |"; fi
	done
	echo "$row"
done

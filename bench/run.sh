#!/usr/bin/env bash
# Every benchmark of issue 15 in one command, into docs/performance.md:
#   - vlab-bench (bench/bench.c): the host datapath against memcpy, with the
#     driver's default on the host (device-writable buffers zeroed) and with
#     --no-zeroing (the cost of that protection); and per ring kind and
#     option (--only rings, issue 14): kicks, interrupts and ring slots per
#     request, throughput against the plain split ring;
#   - the driver's code size per part and configuration (bench/size.sh):
#     `size` of the freestanding objects at -Os for rv64 and aarch64;
#   - bench/qemu-bench.py: a 128 MiB disk read on QEMU by the bare-metal
#     image and by Debian's U-Boot (aarch64, riscv64; mmio, pci), unless
#     --no-qemu (a few minutes; skipped when QEMU or U-Boot is missing).
# Figures go between the bench markers of docs/performance.md; the prose
# around them is kept.
#
#   bench/run.sh [--rounds N] [--brief] [--no-qemu] [--no-docs]
#
# --brief: a few small rounds (what CTest's bench.brief runs), --no-docs:
# print only.  Times are wall-clock on whatever the machine is doing: the
# load average is printed with them.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/.." && pwd)
rounds=9
args=()
docs=1
qemu=1
while [ $# -gt 0 ]; do
	case $1 in
	--rounds) rounds=$2; shift ;;
	--brief) args=(--mib 2 --frames 2000 --disk-mib 2); rounds=2 ;;
	--no-docs) docs=0 ;;
	--no-qemu) qemu=0 ;;
	-h | --help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
	esac
	shift
done
[[ $rounds =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: --rounds wants a positive number, not '$rounds'" >&2; exit 2; }

(cd "$src" && cmake --preset gcc -DVLAB_COVERAGE=OFF >/dev/null && cmake --build --preset gcc --target vlab-bench >/dev/null) ||
	{ echo "run.sh: building vlab-bench failed" >&2; exit 1; }
bench=$src/build/gcc/bench/vlab-bench
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

echo "run.sh: host datapath, buffers zeroed (default)" >&2
"$bench" --md --rounds "$rounds" "${args[@]}" >"$out/zeroed.md"
echo "run.sh: host datapath, --no-zeroing" >&2
"$bench" --md --rounds "$rounds" --no-zeroing "${args[@]}" >"$out/plain.md"
echo "run.sh: ring kinds and options" >&2
"$bench" --md --only rings --rounds "$rounds" "${args[@]}" >"$out/rings.md"

# ---- sizes ----
# per part and per configuration (vlab/config.h): bench/size.sh.
"$here/size.sh" >"$out/size.md" || echo "run.sh: bench/size.sh failed: sizes incomplete" >&2

# ---- QEMU ----
qemu_rc=0
if [ $qemu = 1 ]; then
	echo "run.sh: QEMU, the image against U-Boot" >&2
	for t in riscv64 aarch64; do
		(cd "$src" && cmake --preset $t >/dev/null && cmake --build --preset $t >/dev/null) ||
			echo "run.sh: building the $t image failed" >&2
	done
	# As many rounds as the host figures: a warm 128 MiB read takes some
	# 10 ms now, and three rounds left its ratio to U-Boot moving by 0.4
	# from one run to the next.
	"$here/qemu-bench.py" --md --rounds "$rounds" >"$out/qemu.md" || qemu_rc=$?
fi

{
	echo "<!-- bench:begin (bench/run.sh writes this part) -->"
	echo "Run of $(date -u +%Y-%m-%d) on $(nproc) cores ($(uname -m)), \`bench/run.sh --rounds $rounds\`."
	echo
	echo "### Host datapath, the driver's default (device-writable buffers zeroed)"
	echo
	cat "$out/zeroed.md"
	echo
	echo "### Host datapath, \`--no-zeroing\` (vlab_blk_cfg.no_zeroing, vlab_net_cfg.no_rx_zeroing)"
	echo
	cat "$out/plain.md"
	echo
	echo "### Ring kinds and options (issue 14; virtio-pci, the model)"
	echo
	echo "Kicks: available buffer notifications the model received; interrupts: used buffer"
	echo "notifications it sent (both per request or frame, over every queue of the workload);"
	echo "ring slots: the driver's ring descriptors per chain (blk: header, data, status; net: the"
	echo "transmit chain).  The last column is the throughput against the plain split ring, measured"
	echo "in the same run."
	echo
	cat "$out/rings.md"
	echo
	echo "### QEMU: a 128 MiB disk read, the bare-metal image against U-Boot's \`virtio read\`"
	echo
	echo "The image's default zeroes no read buffer (its platform says the device reads all memory,"
	echo "VLAB_PLAT_DMA_ALL_MEMORY); \"zeroing\" is vlab_blk_cfg.zeroing.  U-Boot zeroes nothing."
	echo
	if [ $qemu = 0 ]; then
		echo "Not run (--no-qemu)."
	elif [ $qemu_rc = 0 ]; then
		cat "$out/qemu.md"
	else
		echo "Not measured: bench/qemu-bench.py exited $qemu_rc (77: QEMU, an image or U-Boot missing)."
	fi
	echo
	echo "### Driver code size"
	echo
	echo "Sum of text, data and bss of the freestanding objects, -Os, before linking (bench/size.sh)."
	echo "A configuration turns VLAB_CFG_* options off (docs/porting.md); a part it leaves out"
	echo "compiles to nothing."
	echo
	cat "$out/size.md"
	echo "<!-- bench:end -->"
} >"$out/section.md"

if [ $docs = 1 ]; then
	doc=$src/docs/performance.md
	grep -q '<!-- bench:begin' "$doc" && grep -q '<!-- bench:end -->' "$doc" ||
		{ echo "run.sh: no bench markers in $doc" >&2; exit 1; }
	awk -v f="$out/section.md" '
		/<!-- bench:begin/ { while ((getline l < f) > 0) print l; skip = 1; next }
		/<!-- bench:end -->/ { skip = 0; next }
		!skip { print }' "$doc" >"$out/doc.md"
	cp "$out/doc.md" "$doc"
	echo "run.sh: wrote $doc" >&2
else
	cat "$out/section.md"
fi

#!/bin/bash -eu
# Builds the fuzz targets the way OSS-Fuzz and ClusterFuzzLite do:
#   $CC, $CXX, $CFLAGS, $CXXFLAGS     compilers and flags (sanitizers, coverage)
#   $LIB_FUZZING_ENGINE               the engine to link (e.g. -fsanitize=fuzzer)
#   $OUT                              where targets, options, dictionaries and
#                                     <target>_seed_corpus.zip go
# Run by hand, it defaults to clang with libFuzzer, ASan and UBSan:
#   fuzz/build.sh && ls build/oss-fuzz-out
SRC=$(cd "$(dirname "$0")/.." && pwd)
: "${CC:=clang}"
: "${CXX:=clang++}"
: "${CFLAGS:=-O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined}"
: "${CXXFLAGS:=$CFLAGS}"
: "${LIB_FUZZING_ENGINE:=-fsanitize=fuzzer}"
: "${OUT:=$SRC/build/oss-fuzz-out}"
WORK=${WORK:-$(mktemp -d)}
mkdir -p "$OUT" "$WORK/obj"

# The drivers (core, transports, blk, net) and the fuzz platform.
objs=()
for src in "$SRC"/driver/core/*.c "$SRC"/driver/transport/*.c "$SRC"/driver/blk/*.c "$SRC"/driver/net/*.c "$SRC"/driver/rng/*.c "$SRC"/driver/part/*.c "$SRC"/driver/fs/*.c "$SRC"/fuzz/fuzz_fs.c "$SRC"/fuzz/fuzz_platform.c "$SRC"/fuzz/fuzz_device.c "$SRC"/fuzz/fuzz_pci.c; do
	o="$WORK/obj/$(basename "$(dirname "$src")")_$(basename "$src" .c).o"
	# shellcheck disable=SC2086
	extra=()
	# Driver code that gives no signal but cost a coverage callback per
	# byte, register access or wait step (fuzz/coverage_ignore.txt), and
	# the driver's indirect calls (see fuzz/CMakeLists.txt).
	[[ $src == */driver/* && $CFLAGS == *fuzzer* ]] &&
		extra=(-fsanitize-coverage-ignorelist="$SRC/fuzz/coverage_ignore.txt" -fno-sanitize-coverage=indirect-calls)
	# The device side keeps its edges, not comparison tracing (fuzz/README.md, "Speed").
	[[ $src == */fuzz/fuzz_* && $CFLAGS == *fuzzer* ]] && extra+=(-fno-sanitize-coverage=trace-cmp)
	# FUZZ_TRACE needs the harness and the device model (libpcap): not here.
	[[ $src == */fuzz_platform.c ]] && extra+=(-DFZ_NO_TRACE)
	$CC $CFLAGS "${extra[@]}" -std=c11 -Wall -Wextra -I"$SRC/driver/include" -I"$SRC/fuzz" -c "$src" -o "$o"
	objs+=("$o")
done

# The trace parser (fuzz_trace_parse): one file of the harness, no device.
inc=(-I"$SRC/driver/include" -I"$SRC/fuzz" -I"$SRC/harness/include" -I"$SRC/harness/src" -I"$SRC/devmodel/include")
# shellcheck disable=SC2086
$CC $CFLAGS -std=c11 -Wall -Wextra "${inc[@]}" -c "$SRC/harness/src/trace_parse.c" -o "$WORK/obj/trace_parse.o"

# Every target fuzz/CMakeLists.txt builds (its VLAB_FUZZ_TARGETS line, the
# list fuzz/run.sh reads too): fuzz_rng was missing from a list of its own.
read -r -a targets < <(sed -n 's/^set(VLAB_FUZZ_TARGETS \(.*\))$/\1/p' "$SRC/fuzz/CMakeLists.txt")
((${#targets[@]})) || { echo "build.sh: no VLAB_FUZZ_TARGETS line in $SRC/fuzz/CMakeLists.txt" >&2; exit 1; }
for t in "${targets[@]}"; do
	# shellcheck disable=SC2086
	$CC $CFLAGS -std=c11 -Wall -Wextra "${inc[@]}" -c "$SRC/fuzz/$t.c" -o "$WORK/obj/$t.o"
	with=("${objs[@]}")
	[[ $t == fuzz_trace_parse ]] && with=("$WORK/obj/trace_parse.o")
	# The engine is a C++ library: link with the C++ compiler.
	# shellcheck disable=SC2086
	$CXX $CXXFLAGS "$WORK/obj/$t.o" "${with[@]}" $LIB_FUZZING_ENGINE -o "$OUT/$t"
	cp "$SRC/fuzz/$t.options" "$SRC/fuzz/$t.dict" "$OUT/"
	rm -f "$OUT/${t}_seed_corpus.zip"
	(cd "$SRC/fuzz/corpus/$t" && zip -q -j "$OUT/${t}_seed_corpus.zip" ./*)
done
echo "fuzz targets in $OUT"

#!/usr/bin/env bash
# ClusterFuzzLite's build step without Docker: .clusterfuzzlite/build.sh with
# the environment the OSS-Fuzz base builder gives it for SANITIZER (its
# $CC, $CXX, $CFLAGS for that sanitizer and libFuzzer, $LIB_FUZZING_ENGINE,
# $SRC, $WORK, $OUT), then what ClusterFuzzLite's check_build does, roughly:
# every target in $OUT runs its seed corpus under the sanitizer's runtime
# options.  See docs/fuzzing-at-scale.md.
#   .clusterfuzzlite/local-build.sh address|undefined|memory [OUT]
# OUT defaults to build/cflite-SANITIZER.  Exit status 0: every target built
# and ran its seeds; 1 otherwise; 2 bad usage.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
san=${1:-}
# The base builder's flags (infra/base-images/base-clang in OSS-Fuzz).
common="-O1 -fno-omit-frame-pointer -gline-tables-only -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION"
ubsan_checks=array-bounds,bool,builtin,enum,float-divide-by-zero,function,integer-divide-by-zero,null,object-size
ubsan_checks=$ubsan_checks,return,returns-nonnull-attribute,shift,signed-integer-overflow,unreachable,vla-bound,vptr
case $san in
address) flags="-fsanitize=address -fsanitize-address-use-after-scope" ;;
# Unsigned wrap-around is reported but does not stop (the ring indices
# wrap by design); ClusterFuzz silences it at run time.
undefined) flags="-fsanitize=$ubsan_checks,unsigned-integer-overflow -fno-sanitize-recover=$ubsan_checks" ;;
memory) flags="-fsanitize=memory -fsanitize-memory-track-origins" ;;
*)
	echo "usage: .clusterfuzzlite/local-build.sh address|undefined|memory [OUT]" >&2
	exit 2
	;;
esac
out=${2:-$root/build/cflite-$san}
src=$(mktemp -d)
work=$(mktemp -d)
seeds=$(mktemp -d)
trap 'rm -rf "$src" "$work" "$seeds"' EXIT
ln -s "$root" "$src/virtio-lab" # the Dockerfile's COPY . $SRC/virtio-lab
mkdir -p "$out"
rm -rf "${out:?}"/*
export SANITIZER=$san FUZZING_ENGINE=libfuzzer FUZZING_LANGUAGE=c SRC=$src WORK=$work OUT=$out
export CC=clang CXX=clang++ CCC=clang++
export CFLAGS="$common $flags -fsanitize=fuzzer-no-link"
export CXXFLAGS=$CFLAGS
export LIB_FUZZING_ENGINE=-fsanitize=fuzzer
echo "== ClusterFuzzLite build ($san): .clusterfuzzlite/build.sh into $out"
(cd "$src/virtio-lab" && "$root/.clusterfuzzlite/build.sh")

# The run-time options ClusterFuzz uses (those that matter here).
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:silence_unsigned_overflow=1
export MSAN_OPTIONS=halt_on_error=1
failed=0 n=0
for t in "$out"/*; do
	name=$(basename "$t")
	# A target is an executable file without a dot in its name (not the
	# options, dictionaries and zips beside it); the directory's path may
	# have dots.
	[[ -x $t && -f $t && $name != *.* ]] || continue
	n=$((n + 1))
	rm -rf "${seeds:?}"/*
	unzip -q -o "$out/${name}_seed_corpus.zip" -d "$seeds"
	if "$t" -runs=0 -timeout=10 "$seeds" >"$out/$name.check.log" 2>&1; then
		echo "   $name: built ($san), ran its $(find "$seeds" -type f | wc -l) seeds"
	else
		tail -30 "$out/$name.check.log" >&2
		echo "   $name: FAILED on its seeds ($out/$name.check.log)" >&2
		failed=1
	fi
done
[[ $n -gt 0 ]] || { echo "local-build.sh: no fuzz target in $out" >&2; exit 1; }
echo "== $n targets in $out ($san)"
exit $failed

#!/bin/bash -eu
# ClusterFuzzLite's build script, run in the image of .clusterfuzzlite/Dockerfile
# with the environment the OSS-Fuzz base builder sets: $CC, $CXX, $CFLAGS,
# $CXXFLAGS (the sanitizer's and libFuzzer's instrumentation),
# $LIB_FUZZING_ENGINE, $SRC, $WORK, $OUT.  Every target of fuzz/ goes to
# $OUT with its options, dictionary and seed corpus (fuzz/build.sh).
# Run here without Docker: .clusterfuzzlite/local-build.sh SANITIZER.
"$SRC/virtio-lab/fuzz/build.sh"

#!/usr/bin/env bash
# Builds the libFuzzer targets in Fuzz/*Fuzzer.swift with the address
# sanitizer. SwiftPM's --sanitize=fuzzer would link libFuzzer's main into
# every executable of the package, so the modules are compiled here with
# the toolchain directly: the C kernels with clang, Attention and
# AttentionIO with swiftc, each as a static library, then one executable per
# fuzzer.
#
# Usage: Fuzz/build.sh [OUTPUT_DIRECTORY]   (default .build/fuzz)
set -euo pipefail

cd "$(dirname "$0")/.."
output="${1:-.build/fuzz}"
mkdir -p "$output"

SWIFTC="${SWIFTC:-swiftc}"
# Every module gets coverage instrumentation and ASan, so that libFuzzer
# measures coverage in the readers and in the conversions they call.
flags=(-O -g -sanitize=fuzzer,address -parse-as-library -use-ld=lld)
blas_include=()
for flag in $(pkg-config --cflags-only-I openblas); do
    blas_include+=(-Xcc "$flag")
done

# The C kernels: clang from the same toolchain as swiftc, and a module map
# like the one SwiftPM writes for the target's include folder.
CLANG="${CLANG:-$(dirname "$(command -v "$SWIFTC")")/clang}"
kernels="$output/CAttentionKernels"
mkdir -p "$kernels"
cat > "$kernels/module.modulemap" <<MODULEMAP
module CAttentionKernels {
    header "$PWD/Sources/CAttentionKernels/include/CAttentionKernels.h"
    export *
}
MODULEMAP
echo "build.sh: compiling CAttentionKernels"
objects=()
for source in Sources/CAttentionKernels/*.c; do
    object="$kernels/$(basename "$source" .c).o"
    "$CLANG" -O2 -g -fPIC -fsanitize=fuzzer-no-link,address \
        -I Sources/CAttentionKernels/include -c "$source" -o "$object"
    objects+=("$object")
done
rm -f "$output/libCAttentionKernels.a"
ar rcs "$output/libCAttentionKernels.a" "${objects[@]}"

build_module() {
    local name="$1"
    shift
    echo "build.sh: compiling $name"
    "$SWIFTC" "${flags[@]}" -module-name "$name" \
        -emit-module -emit-module-path "$output/$name.swiftmodule" \
        -emit-library -static -o "$output/lib$name.a" \
        -I "$output" "$@"
}

build_module Attention -I Sources/CBLAS -I "$kernels" "${blas_include[@]}" \
    $(find Sources/Attention -name '*.swift' | sort)
build_module AttentionIO -I Sources/CBLAS "${blas_include[@]}" \
    $(find Sources/AttentionIO -name '*.swift' | sort)

for source in Fuzz/*Fuzzer.swift; do
    name="$(basename "$source" .swift)"
    echo "build.sh: linking $name"
    "$SWIFTC" "${flags[@]}" -I "$output" -I Sources/CBLAS -I "$kernels" "${blas_include[@]}" \
        "$source" -o "$output/$name" \
        -L "$output" -lAttentionIO -lAttention -lCAttentionKernels \
        $(pkg-config --libs-only-L openblas) -lopenblas -llapacke
done
echo "build.sh: fuzzers are in $output"

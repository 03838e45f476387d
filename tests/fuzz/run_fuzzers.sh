#!/usr/bin/env bash
# Builds the Jinja template fuzzer with clang's libFuzzer (ASan + UBSan) and
# runs it for SECONDS (default 60). Seeds: tests/fuzz/seeds plus every chat
# template in ../shared/fixtures when present. Exits non-zero on a finding
# (the crashing input is left in OUT_DIR), 77 when clang cannot build it.
#
# Usage: tests/fuzz/run_fuzzers.sh [SECONDS] [OUT_DIR]
set -euo pipefail

seconds=${1:-60}
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${2:-$root/build/fuzz}
clang=${CLANG:-clang++}
mkdir -p "$out/corpus" "$out/seeds"

if ! command -v "$clang" >/dev/null; then
  echo "run_fuzzers: $clang not found; skipping the template fuzzer"
  exit 77
fi

sources=("$root"/src/mlxt/tokenizer/jinja/*.cpp
         "$root/src/mlxt/core/error.cpp"
         "$root/src/mlxt/tokenizer/utf8.cpp"
         "$root/tests/fuzz/jinja_template_fuzzer.cpp")
binary="$out/jinja_template_fuzzer"
# Rebuild only when a source or header changed since the last build.
newest=$(find "$root/src/mlxt/tokenizer/jinja" "$root/src/mlxt/core/error.cpp" \
  "$root/src/mlxt/core/error.h" "$root/src/mlxt/tokenizer/utf8.cpp" \
  "$root/src/mlxt/tokenizer/utf8.h" "$root/tests/fuzz/jinja_template_fuzzer.cpp" \
  -newer "$binary" 2>/dev/null | head -1 || true)
if [[ ! -x "$binary" || -n "$newest" ]]; then
  echo "run_fuzzers: building $binary"
  if ! "$clang" -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined \
      -fno-sanitize-recover=undefined -I "$root/src" "${sources[@]}" \
      -o "$binary.tmp"; then
    echo "run_fuzzers: $clang could not build the fuzzer (no libFuzzer?)"
    exit 77
  fi
  mv "$binary.tmp" "$binary"
fi

cp "$root"/tests/fuzz/seeds/* "$out/seeds/"
fixtures="$root/../shared/fixtures/chat_templates"
if [[ -d "$fixtures" ]]; then
  find "$fixtures" -name '*.jinja' -exec cp {} "$out/seeds/" \;
else
  echo "run_fuzzers: no fixtures at $fixtures; using the built-in seeds only"
fi

cd "$out"
# libFuzzer's default error exit code is 77, which ctest would read as a skip.
exec "$binary" -max_total_time="$seconds" -max_len=16384 -timeout=20 \
  -error_exitcode=1 -timeout_exitcode=1 \
  -rss_limit_mb=2048 -dict="$root/tests/fuzz/jinja.dict" \
  -print_final_stats=1 "$out/corpus" "$out/seeds"

#!/usr/bin/env bash
# Builds the tokenizer libFuzzer targets (tokenizer_load_fuzz,
# tokenizer_encode_fuzz) with clang -fsanitize=fuzzer,address and runs each
# for SECONDS seconds (default 60). Exits 0 when neither finds anything, 77
# (ctest: skipped) when clang++ is missing.
#   tests/fuzz/tokenizer_build_and_run.sh [OUT_DIR] [SECONDS]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$root/build/fuzz}
seconds=${2:-60}
cxx=$(command -v clang++-14 || command -v clang++ || true)
if [[ -z $cxx ]]; then
  echo "tokenizer fuzz: no clang++ found; skipping"
  exit 77
fi
mkdir -p "$out/obj"
flags=(-std=c++20 -O1 -g -fsanitize=fuzzer-no-link,address -I"$root/src")
sources=("$root"/src/mlxt/core/error.cpp "$root"/src/mlxt/core/json_file.cpp)
while IFS= read -r file; do sources+=("$file"); done \
  < <(find "$root/src/mlxt/tokenizer" -name '*.cpp' | sort)
objects=()
for src in "${sources[@]}"; do
  obj="$out/obj/$(echo "${src#"$root"/}" | tr / _).o"
  if [[ ! -f $obj || $src -nt $obj ]]; then
    "$cxx" "${flags[@]}" -c "$src" -o "$obj" &
    # Two compiles at a time: the machine is shared.
    while (($(jobs -rp | wc -l) >= 2)); do wait -n; done
  fi
  objects+=("$obj")
done
wait
libs=$(pkg-config --libs oniguruma libutf8proc sentencepiece)
export MLXT_FIXTURE_TOKENIZERS=${MLXT_FIXTURE_TOKENIZERS:-$root/../shared/fixtures/tokenizers}
# Loading sees whole tokenizer.json files (the seeds are up to ~20 KB);
# encoding sees texts.
declare -A max_len=([tokenizer_load_fuzz]=32768 [tokenizer_encode_fuzz]=4096)
for target in tokenizer_load_fuzz tokenizer_encode_fuzz; do
  "$cxx" "${flags[@]}" -fsanitize=fuzzer "$root/tests/fuzz/$target.cpp" \
    "${objects[@]}" $libs -lpthread -o "$out/$target"
  corpus="$out/${target}_corpus"
  mkdir -p "$corpus"
  cp -n "$root"/tests/fuzz/tokenizer_seeds/* "$corpus"/ 2>/dev/null || true
  echo "tokenizer fuzz: running $target for ${seconds}s"
  "$out/$target" -max_total_time="$seconds" -max_len="${max_len[$target]}" -timeout=20 \
    -rss_limit_mb=4096 -artifact_prefix="$out/${target}-" "$corpus"
done

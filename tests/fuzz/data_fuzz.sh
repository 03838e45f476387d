#!/usr/bin/env bash
# Builds and runs one libFuzzer target over the data readers (no MLX needed).
#   tests/fuzz/data_fuzz.sh jsonl|csv|json|detect SECONDS [BUILD_DIR]
# Exits non-zero on any finding (crash, sanitizer report, leak, timeout).
set -euo pipefail
target=$1
seconds=$2
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${3:-$root/build}/fuzz
mkdir -p "$out"
cxx=${MLXT_FUZZ_CXX:-clang++-14}
sources=(core/error.cpp tokenizer/utf8.cpp data/byte_stream.cpp
  data/line_reader.cpp data/row_source.cpp data/jsonl_reader.cpp
  data/json_array_reader.cpp data/csv_reader.cpp data/text_reader.cpp
  data/parquet_reader.cpp data/format_parse.cpp data/format_write.cpp
  data/detect.cpp)
case $target in
  jsonl) main=data_reader_fuzz.cpp ext=.jsonl ;;
  json) main=data_reader_fuzz.cpp ext=.json ;;
  csv) main=data_reader_fuzz.cpp ext=.csv ;;
  detect) main=data_detect_fuzz.cpp ext=.jsonl ;;
  *) echo "unknown target $target (jsonl, json, csv, detect)" >&2; exit 2 ;;
esac
bin=$out/data_${target}_fuzz
flags=(-std=c++20 -O1 -g -fsanitize=fuzzer-no-link,address,undefined
  -fno-sanitize-recover=undefined -I"$root/src" -I"$root/tests/fuzz")
# The library sources are compiled once and shared by every target; a file
# is recompiled when it or any data/ header is newer than its object.
headers_newest=$(ls -t "$root"/src/mlxt/data/*.h "$root"/src/mlxt/core/*.h | head -1)
objects=()
exec 9>"$out/build.lock"
flock 9 # ctest may start several targets at once; one compiles at a time
for src in "${sources[@]}"; do
  obj=$out/obj/${src//\//_}.o
  mkdir -p "$out/obj"
  if [[ ! -f $obj || $root/src/mlxt/$src -nt $obj || $headers_newest -nt $obj ]]; then
    "$cxx" "${flags[@]}" -c "$root/src/mlxt/$src" -o "$obj"
  fi
  objects+=("$obj")
done
"$cxx" "${flags[@]}" -fsanitize=fuzzer -DMLXT_FUZZ_EXT="\"$ext\"" \
  "$root/tests/fuzz/$main" "${objects[@]}" -lz -o "$bin"
flock -u 9
corpus=$out/corpus_$target
if [[ ! -d $corpus ]]; then
  mkdir -p "$corpus"
  # Seeds: one row of each shape, so the fuzzer starts inside the parsers.
  case $target in
    csv) printf 'instruction,input,output\n"a ""q""",,"b,\nc"\n' >"$corpus/seed" ;;
    json) printf '[{"instruction": "a", "output": "b"},\n {"text": "t"}]' >"$corpus/seed" ;;
    *) printf '%s\n' \
         '{"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b", "tool_calls": [{"function": {"name": "f", "arguments": "{}"}}]}]}' \
         '{"conversations": [{"from": "human", "value": "a"}, {"from": "function_call", "value": "{\"name\": \"f\"}"}, {"from": "gpt", "value": "b"}]}' \
         '{"chosen": "\n\nHuman: a\n\nAssistant: b", "rejected": "\n\nHuman: a\n\nAssistant: c"}' \
         '{"prompt": "a", "completion": "b"}' >"$corpus/seed" ;;
  esac
fi
cd "$out"
exec "$bin" -max_total_time="$seconds" -max_len=4096 -timeout=10 \
  -rss_limit_mb=2048 -print_final_stats=1 "$corpus"

#!/usr/bin/env bash
# Runs one libFuzzer target built by tests/fuzz/CMakeLists.txt for SECONDS,
# from its seeds plus the corpus it grew in earlier runs. Exits non-zero on
# any finding (crash, sanitizer report, leak, timeout); the input is left in
# FUZZ_BUILD_DIR as <target>-crash-*.
#   tests/fuzz/run_fuzz_target.sh TARGET SECONDS FUZZ_BUILD_DIR
set -euo pipefail
target=$1
seconds=$2
out=$3
here=$(cd "$(dirname "$0")" && pwd)
fixtures=$here/../../../shared/fixtures
binary=$out/$target
[[ -x $binary ]] || { echo "$binary not built (ctest runs fuzz_build first)" >&2; exit 2; }

seeds=()
options=()
case $target in
  data_jsonl_fuzz | data_detect_fuzz) seeds=("$here/data_seeds/rows.jsonl") max_len=4096 ;;
  data_json_fuzz) seeds=("$here/data_seeds/rows.json") max_len=4096 ;;
  data_csv_fuzz) seeds=("$here/data_seeds/rows.csv") max_len=4096 ;;
  # Loading sees whole tokenizer.json files (seeds up to ~20 KB).
  tokenizer_load_fuzz) seeds=("$here"/tokenizer_seeds/*) max_len=32768 ;;
  tokenizer_encode_fuzz)
    seeds=("$here"/tokenizer_seeds/*) max_len=4096
    export MLXT_FIXTURE_TOKENIZERS=${MLXT_FIXTURE_TOKENIZERS:-$fixtures/tokenizers} ;;
  jinja_template_fuzz)
    seeds=("$here"/jinja_seeds/*) max_len=16384 options=(-dict="$here/jinja.dict")
    # Every fixture chat template is a seed when ../shared/fixtures is there.
    if [[ -d $fixtures/chat_templates ]]; then
      while IFS= read -r f; do seeds+=("$f"); done \
        < <(find "$fixtures/chat_templates" -name '*.jinja' | sort)
    fi ;;
  *) echo "unknown fuzz target $target" >&2; exit 2 ;;
esac

corpus=$out/corpus/$target
mkdir -p "$corpus"
cp "${seeds[@]}" "$corpus"/ 2>/dev/null || true
cd "$out"
# libFuzzer's default error exit code is 77, which ctest would read as a skip.
exec "$binary" -max_total_time="$seconds" -max_len="$max_len" -timeout=20 \
  -error_exitcode=1 -timeout_exitcode=1 -rss_limit_mb=4096 \
  -artifact_prefix="$out/$target-" -print_final_stats=1 "${options[@]}" "$corpus"

#!/usr/bin/env bash
# Correctness of the CUDA build, run on an NVIDIA host from the repository
# root (the GPU has no CI; results go into bench/results by hand):
#  1. model parity: the CUDA build of tests/parity/model_parity_test against
#     mlx-lm's own model classes on the host's CPU, fp32 with TF32 off;
#  2. the loss curve of a bf16 training run on the GPU against the fp32 run
#     on the host's CPU (tests/gpu/train_run.sh: same initial weights, data,
#     seed and settings), compared by tests/gpu/compare_loss_curves.py.
# Usage: tests/gpu/cuda_checks.sh BUNDLE BIN_DIR OUT
#   BIN_DIR  the CUDA build's mlxt and model_parity_test (+ lib/)
set -uo pipefail
bundle=$1 bin=$2 out=$3
here=$(cd "$(dirname "$0")" && pwd)
source bench/gpu/device_env.sh "$bundle" "$bin"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$out/gpu.txt"

MLX_ENABLE_TF32=0 MLXT_TEST_PYTHON=$(command -v python3) MLXT_SOURCE_DIR=$PWD \
  "$bin/model_parity_test" --gtest_output=json:"$out/model_parity.json" 2>&1 |
  tee "$out/model_parity.log"
echo "model_parity_test rc=${PIPESTATUS[0]}"

# One initial model for both runs; weights stay out of OUT.
work=/tmp/cuda-checks
rm -rf "$work" && mkdir -p "$work"
"$bin/mlxt" init-model --arch llama --preset small --seed 3 --out "$work/model" \
  --tokenizer-corpus datasets/quickstart/train.jsonl >"$out/init.log" 2>&1
for run in "float32 fp32-cpu cpu" "bfloat16 bf16-gpu gpu"; do
  set -- $run
  "$here/train_run.sh" "$bin/mlxt" "$work/model" "$1" "$work/$2" "$3" >"$out/$2.log" 2>&1
  echo "$2 run rc=$?"
  cp "$work/$2/metrics.jsonl" "$out/$2.metrics.jsonl"
done
python3 "$here/compare_loss_curves.py" "$out/fp32-cpu.metrics.jsonl" \
  "$out/bf16-gpu.metrics.jsonl" | tee "$out/loss_curves.txt"

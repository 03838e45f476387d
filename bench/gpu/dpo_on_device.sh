#!/usr/bin/env bash
# DPO against TRL's DPOTrainer on one NVIDIA GPU, run from the repository
# root: installs the offline MLX bundle and TRL's wheels, then
#  1. parity: a small random Llama with random non-zero LoRA adapters, the
#     same 4 preference pairs of token ids; our DPO loss and metrics
#     (dpo_bench --mode eval, fp32, TF32 off) against TRL's (fp32);
#  2. speed: a Llama-1B-shape model (random, bf16, saved once and loaded by
#     both), LoRA r16 on the seven projections, 4 pairs of 1024 prompt +
#     1024 completion tokens every step; median step time, tokens/s and
#     peak memory of ours and of TRL's trainer.
# Usage: bench/gpu/dpo_on_device.sh BUNDLE BIN_DIR WHEELS OUT
#   BUNDLE   scripts/offline-bundle's folder (the MLX CUDA wheel)
#   BIN_DIR  the CUDA build's dpo_bench
#   WHEELS   trl, datasets, dill, multiprocess, fsspec wheels (pure Python)
#   OUT      where the JSON lines and logs go
set -uo pipefail
bundle=$1 bin=$2 wheels=$3 out=$4
source bench/gpu/device_env.sh "$bundle" "$bin"
python3 -m pip install -q --no-index --no-deps --target /tmp/trl "$wheels"/*.whl || exit 1
export PYTHONPATH=/tmp/trl:$PYTHONPATH
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$out/gpu.txt"
peer=bench/peers/trl_dpo_bench.py
work=/tmp/dpo-bench
rm -rf "$work" && mkdir -p "$work"

python3 "$peer" prepare --out "$work/small" --shape small --pairs 4 \
  --prompt 24 --completion 16 2>"$out/prepare-small.log"
MLX_ENABLE_TF32=0 "$bin/dpo_bench" --model "$work/small/model" \
  --pairs "$work/small/pairs.json" --adapters "$work/small/adapters" \
  --mode eval --dtype f32 --batch 4 | tee "$out/parity-ours.json"
python3 "$peer" parity --dir "$work/small" --batch 4 \
  2>"$out/parity-trl.log" | tee "$out/parity-trl.json"

python3 "$peer" prepare --out "$work/llama1b" --shape llama1b --pairs 4 \
  --prompt 1024 --completion 1024 2>"$out/prepare-llama1b.log"
"$bin/dpo_bench" --model "$work/llama1b/model" \
  --pairs "$work/llama1b/pairs.json" --mode time --dtype bf16 --batch 4 \
  --steps 12 --warmup 3 | tee "$out/time-ours.json"
python3 "$peer" time --dir "$work/llama1b" --batch 4 --steps 12 --warmup 3 \
  2>"$out/time-trl.log" | tee "$out/time-trl.json"

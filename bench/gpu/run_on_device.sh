#!/usr/bin/env bash
# One GPU benchmark session, run on an NVIDIA host from the repository root:
# installs the offline MLX bundle, then runs our trainer's headline
# workloads and the HF+PEFT peer in the same command, on the same GPU.
#
# Usage: bench/gpu/run_on_device.sh BUNDLE BIN_DIR PEER_SCRIPT OUT [MLX_LM]
#   BUNDLE       folder from scripts/offline-bundle (parts + SHA256SUMS);
#                with MLX_LM, made with --with-mlx-lm
#   BIN_DIR      folder with the CUDA build's train_bench and mlxt
#   PEER_SCRIPT  ../shared/peers/hf_peft_bench.py
#   OUT          where logs and JSON results go
#   MLX_LM       bench/peers/mlx_lm_gpu_bench.py: also run mlx-lm's training
#                step on the same workloads (same backend)
# Environment: TORCH_SITE = the PyTorch venv's site-packages (CUDA libraries);
#   RUN_CLI=0 skips the CLI check runs (to fit a 10-minute device call).
set -uo pipefail
bundle=$1 bin=$2 peer=$3 out=$4 mlx_lm=${5:-}
site=${TORCH_SITE:-/opt/torch/.venv/lib/python3.12/site-packages}
prefix=/tmp/mlx-cuda
scripts/offline-install "$bundle" "$prefix" --nvidia-from "$site" || exit 1
export LD_LIBRARY_PATH=$prefix/mlx/lib:$bin/lib:${LD_LIBRARY_PATH:-}
# Long runs see many shapes; MLX's CUDA caches otherwise throw after 2x
# their capacity in lifetime misses.
export MLX_ENABLE_CACHE_THRASHING_CHECK=0
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$out/gpu.txt"

# A small real run through the CLI first: the CUDA path trains.
if [[ ${RUN_CLI:-1} == 1 ]]; then
"$bin/mlxt" init-model --arch qwen3 --preset small --out /tmp/m --tokenizer-corpus datasets/quickstart/train.jsonl
for dtype in float32 bfloat16; do
  MLX_ENABLE_TF32=0 "$bin/mlxt" train --model /tmp/m --data datasets/quickstart --fine_tune_type full \
    --iters 200 --batch_size 8 --learning_rate 2e-3 --steps_per_report 50 --steps_per_eval 100 \
    --val_batches -1 --save_every 0 --compute_dtype $dtype --adapter_path /tmp/out-$dtype \
    --runs_dir /tmp/runs --run_id $dtype --progress_bar false > "$out/cli-$dtype.log" 2>&1
  echo "cli $dtype rc=$?"; cp /tmp/runs/$dtype/metrics.jsonl "$out/cli-$dtype.jsonl" 2>/dev/null
done
fi

for args in "llama1b lora 4 2048" "llama1b full 4 2048" "qwen05b lora 8 1024" "qwen05b full 8 1024"; do
  set -- $args
  "$bin/train_bench" --shape "$1" --mode "$2" --batch "$3" --seq "$4" 2>&1 | tee -a "$out/ours.jsonl"
done
"$bin/train_bench" --shape llama1b --mode lora --batch 4 --seq 2048 --grad-checkpoint 2>&1 | tee -a "$out/ours.jsonl"
if [[ -n $mlx_lm ]]; then
  for args in "llama1b lora 4 2048" "llama1b full 4 2048" "qwen05b lora 8 1024" "qwen05b full 8 1024"; do
    set -- $args
    PYTHONPATH=$prefix timeout 150 python3 "$mlx_lm" --shape "$1" --mode "$2" --batch "$3" --seq "$4" \
      2>&1 | tee -a "$out/mlx_lm.jsonl"
  done
fi
OUT=$out timeout 420 python3 "$peer" 2>&1 | tee "$out/peer.log"

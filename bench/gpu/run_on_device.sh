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
# Environment: TORCH_SITE (see device_env.sh). Correctness checks on the GPU
# (model parity, the bf16 loss curve) are tests/gpu/cuda_checks.sh.
set -uo pipefail
bundle=$1 bin=$2 peer=$3 out=$4 mlx_lm=${5:-}
source bench/gpu/device_env.sh "$bundle" "$bin"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$out/gpu.txt"

for args in "llama1b lora 4 2048" "llama1b full 4 2048" "qwen05b lora 8 1024" "qwen05b full 8 1024"; do
  set -- $args
  "$bin/train_bench" --shape "$1" --mode "$2" --batch "$3" --seq "$4" 2>&1 | tee -a "$out/ours.jsonl"
done
"$bin/train_bench" --shape llama1b --mode lora --batch 4 --seq 2048 --grad-checkpoint 2>&1 | tee -a "$out/ours.jsonl"
if [[ -n $mlx_lm ]]; then
  for args in "llama1b lora 4 2048" "llama1b full 4 2048" "qwen05b lora 8 1024" "qwen05b full 8 1024"; do
    set -- $args
    timeout 150 python3 "$mlx_lm" --shape "$1" --mode "$2" --batch "$3" --seq "$4" \
      2>&1 | tee -a "$out/mlx_lm.jsonl"
  done
fi
OUT=$out timeout 420 python3 "$peer" 2>&1 | tee "$out/peer.log"

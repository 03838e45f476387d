#!/usr/bin/env bash
# The training run whose loss curve the GPU check compares across devices:
# full fine-tuning of a `small` preset model on datasets/quickstart, fixed
# seed, reports every 10 steps. The fp32 CPU run and the bf16 GPU run both
# come from here, so they cannot drift apart in settings.
#   tests/gpu/train_run.sh MLXT MODEL_DIR float32|bfloat16 RUN_DIR [cpu|gpu]
set -euo pipefail
mlxt=$1 model=$2 dtype=$3 run=$4 device=${5:-}
"$mlxt" ${device:+--device "$device"} train --model "$model" --data datasets/quickstart --fine_tune_type full \
  --iters 150 --batch_size 8 --learning_rate 1e-3 --seed 7 \
  --steps_per_report 10 --steps_per_eval 50 --val_batches -1 --save_every 0 \
  --compute_dtype "$dtype" --adapter_path "$run/weights" \
  --runs_dir "$(dirname "$run")" --run_id "$(basename "$run")" --progress_bar false

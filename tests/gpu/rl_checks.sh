#!/usr/bin/env bash
# The online-RL methods on an NVIDIA GPU, run from the repository root (the
# GPU has no CI; results go into bench/results by hand): the CPU e2e tests'
# task (tests/e2e/ppo_e2e_test.cpp: "contains o" over 8 prompts, the tiny
# model) trained with PPO and GRPO on the GPU in float32 and bfloat16, and
# PPO killed between two steps on one rollout batch and resumed, its train
# records compared with the uninterrupted run's.
# Usage: tests/gpu/rl_checks.sh BUNDLE BIN_DIR OUT
#   BIN_DIR  the CUDA build's mlxt (+ lib/)
set -uo pipefail
bundle=$1 bin=$2 out=$3
source bench/gpu/device_env.sh "$bundle" "$bin"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$out/gpu.txt"
mlxt=$bin/mlxt
work=/tmp/rl-checks
rm -rf "$work" && mkdir -p "$work/data"
for w in apple river stone cloud tiger maple ocean piano; do
  printf '{"prompt": "Say: %s", "answer": "o"}\n' "$w" >>"$work/data/train.jsonl"
  printf 'Say: %s %s e e\n' "$w" "$w" >>"$work/corpus.txt"
done
cp "$work/data/train.jsonl" "$work/data/valid.jsonl"
"$mlxt" init-model --arch llama --preset tiny --out "$work/model" --vocab-size 300 \
  --init-std 0.2 --tokenizer-corpus "$work/corpus.txt" >"$out/init.log" 2>&1
common=(--model "$work/model" --data "$work/data" --runs_dir "$work/runs" --reward contains
  --max_completion_length 6 --max_seq_length 64 --steps_per_eval 1000 --num_layers -1
  --progress_bar false)
ppo=(--method ppo --batch_size 16 --ppo_epochs 2 --learning_rate 2e-4 --lam 1.0 --kl_coef 0.05)
grpo=(--method grpo --num_generations 8 --batch_size 16 --learning_rate 5e-4 --kl_coef 0.1)
train() { # ID ARGS...
  local id=$1; shift
  "$mlxt" --device gpu train "${common[@]}" --run_id "$id" --adapter_path "$work/$id" "$@" \
    >"$out/$id.log" 2>&1
  echo "$id rc=$?"
  cp "$work/runs/$id/metrics.jsonl" "$out/$id.metrics.jsonl" 2>/dev/null
}
for dtype in float32 bfloat16; do
  train "ppo-$dtype" "${ppo[@]}" --iters 120 --steps_per_report 8 --save_every 0 --compute_dtype "$dtype"
  train "grpo-$dtype" "${grpo[@]}" --iters 30 --steps_per_report 1 --save_every 0 --compute_dtype "$dtype"
done
resume=(--ppo_epochs 3 --save_every 4 --iters 9 --steps_per_report 1 --kl_target 0.5 --kl_horizon 100)
train ppo-whole "${ppo[@]}" "${resume[@]}"
MLXT_FAILPOINTS=train.step:6 train ppo-killed "${ppo[@]}" "${resume[@]}"
"$mlxt" --device gpu train --resume "$work/runs/ppo-killed" >"$out/ppo-resumed.log" 2>&1
echo "ppo-resumed rc=$?"
cp "$work/runs/ppo-killed/metrics.jsonl" "$out/ppo-killed.metrics.jsonl"
python3 - "$out" <<'PY' | tee "$out/summary.txt"
import json, sys
out = sys.argv[1]
def records(name, event="train"):
    try:
        rows = [json.loads(l) for l in open(f"{out}/{name}.metrics.jsonl")]
    except OSError:
        return []
    return [r for r in rows if r.get("event") == event]
for name in ["ppo-float32", "ppo-bfloat16", "grpo-float32", "grpo-bfloat16"]:
    t = records(name)
    if not t:
        print(name, "no records"); continue
    k = max(1, len(t) // 5)
    first = sum(r["reward"] for r in t[:k]) / k
    last = sum(r["reward"] for r in t[-k:]) / k
    print(f"{name}: reward first {k} reports {first:.3f}, last {k} {last:.3f}; "
          f"max kl {max(r['kl'] for r in t):.2f}; "
          f"{t[-1]['elapsed_seconds']:.1f} s; tokens/s {t[-1]['tokens_per_sec']:.0f}")
timing = {"tokens_per_sec", "target_tokens_per_sec", "seconds_per_step",
          "elapsed_seconds", "eta_seconds", "peak_memory_gb"}
strip = lambda r: {k: v for k, v in r.items() if k not in timing}
whole = {r["step"]: strip(r) for r in records("ppo-whole")}
killed = {}
for r in records("ppo-killed"):
    killed[r["step"]] = strip(r)
same = [s for s in whole if killed.get(s) == whole[s]]
print(f"ppo kill/resume: {len(same)} of {len(whole)} train records equal; "
      f"resume events {records('ppo-killed', 'resume')}")
PY

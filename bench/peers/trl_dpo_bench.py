"""TRL's DPOTrainer beside mlx-train's DPO on the same weights and token ids.

Three sub-commands, run by bench/gpu/dpo_on_device.sh on the GPU machine
(torch + transformers + peft there; trl and datasets carried as wheels):

  prepare --out DIR --shape small|llama1b --pairs N --prompt P --completion C
      A random-init Llama model saved with transformers (DIR/model, plus a
      word-level tokenizer TRL needs for its pad id), N random preference
      pairs of token ids (DIR/pairs.json), and random non-zero LoRA adapters
      written twice: mlx-lm's layout for mlx-train (DIR/adapters) and PEFT's
      (DIR/peft). The same numbers in both: lora_a = A^T, lora_b = B^T,
      PEFT's lora_alpha / r = mlx-lm's scale.
  parity --dir DIR --batch B
      TRL's DPO loss and metrics (fp32, TF32 off) over the first B pairs with
      the PEFT adapters; the reference is the base with adapters disabled.
  time --dir DIR --batch B --steps S --warmup W
      TRL's DPOTrainer training fresh LoRA adapters (r16, alpha 32, the seven
      projections, bf16, AdamW lr 1e-4) on the same B pairs every step;
      median step time, tokens/s, peak memory.
Each prints one JSON line.
"""

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

SHAPES = {
    # Llama-3.2-1B's shape, as bench/gpu/train_bench.cpp's llama1b.
    "llama1b": dict(vocab_size=128256, hidden_size=2048, intermediate_size=8192,
                    num_hidden_layers=16, num_attention_heads=32,
                    num_key_value_heads=8, rope_theta=500000.0,
                    tie_word_embeddings=True, rms_norm_eps=1e-5),
    # Small enough for an fp32 parity check whose sums stay well inside
    # float32's precision.
    "small": dict(vocab_size=2048, hidden_size=256, intermediate_size=704,
                  num_hidden_layers=4, num_attention_heads=8,
                  num_key_value_heads=4, rope_theta=10000.0,
                  tie_word_embeddings=False, rms_norm_eps=1e-5),
}
PROJECTIONS = {"self_attn": ["q_proj", "k_proj", "v_proj", "o_proj"],
               "mlp": ["gate_proj", "up_proj", "down_proj"]}
RANK, SCALE = 16, 2.0


def tokenizer_for(vocab_size):
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast
    vocab = {"<pad>": 0, "<s>": 1, "</s>": 2}
    vocab.update({f"t{i}": i for i in range(3, vocab_size)})
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<pad>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    return PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>",
                                   bos_token="<s>", eos_token="</s>")


def prepare(a):
    from safetensors.numpy import save_file
    from transformers import LlamaConfig, LlamaForCausalLM
    out = Path(a.out)
    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)
    shape = SHAPES[a.shape]
    config = LlamaConfig(max_position_embeddings=4096, **shape)
    model = LlamaForCausalLM(config).to(torch.bfloat16 if a.shape == "llama1b"
                                        else torch.float32)
    model.save_pretrained(out / "model", safe_serialization=True)
    tokenizer_for(shape["vocab_size"]).save_pretrained(out / "model")
    v = shape["vocab_size"]
    pairs = [{"prompt_ids": rng.integers(3, v, a.prompt).tolist(),
              "chosen_ids": rng.integers(3, v, a.completion).tolist(),
              "rejected_ids": rng.integers(3, v, a.completion).tolist()}
             for _ in range(a.pairs)]
    (out / "pairs.json").write_text(json.dumps(pairs))

    ours, peft = {}, {}
    head_dim = shape["hidden_size"] // shape["num_attention_heads"]
    kv = shape["num_key_value_heads"] * head_dim
    h, f = shape["hidden_size"], shape["intermediate_size"]
    dims = {"q_proj": (h, h), "k_proj": (h, kv), "v_proj": (h, kv),
            "o_proj": (h, h), "gate_proj": (h, f), "up_proj": (h, f),
            "down_proj": (f, h)}
    for layer in range(shape["num_hidden_layers"]):
        for group, names in PROJECTIONS.items():
            for name in names:
                fan_in, fan_out = dims[name]
                lora_a = rng.uniform(-1, 1, (fan_in, RANK)) / np.sqrt(fan_in)
                lora_b = rng.normal(0, 0.02, (RANK, fan_out))
                key = f"model.layers.{layer}.{group}.{name}"
                ours[key + ".lora_a"] = lora_a.astype(np.float32)
                ours[key + ".lora_b"] = lora_b.astype(np.float32)
                peft[f"base_model.model.{key}.lora_A.weight"] = (
                    np.ascontiguousarray(lora_a.T).astype(np.float32))
                peft[f"base_model.model.{key}.lora_B.weight"] = (
                    np.ascontiguousarray(lora_b.T).astype(np.float32))
    keys = [f"{g}.{n}" for g, names in PROJECTIONS.items() for n in names]
    (out / "adapters").mkdir(parents=True, exist_ok=True)
    save_file(ours, str(out / "adapters" / "adapters.safetensors"))
    (out / "adapters" / "adapter_config.json").write_text(json.dumps(
        {"fine_tune_type": "lora", "num_layers": -1,
         "lora_parameters": {"rank": RANK, "scale": SCALE, "dropout": 0.0,
                             "keys": keys}}))
    (out / "peft").mkdir(parents=True, exist_ok=True)
    save_file(peft, str(out / "peft" / "adapter_model.safetensors"))
    (out / "peft" / "adapter_config.json").write_text(json.dumps(
        {"peft_type": "LORA", "task_type": "CAUSAL_LM", "r": RANK,
         "lora_alpha": SCALE * RANK, "lora_dropout": 0.0, "bias": "none",
         "target_modules": sorted(n for ns in PROJECTIONS.values() for n in ns),
         "base_model_name_or_path": str(out / "model")}))
    print(json.dumps({"prepared": str(out), "shape": a.shape,
                      "pairs": a.pairs}))


def trainer_for(model, batch, config_kwargs, rows, **trainer_kwargs):
    """A DPOTrainer whose dataset is `rows` of token ids, taken as they are
    (TRL's tokenisation step skipped) in order (no shuffling)."""
    from datasets import Dataset
    from torch.utils.data import SequentialSampler
    from trl import DPOConfig, DPOTrainer
    DPOTrainer._prepare_dataset = lambda self, dataset, *args, **kw: dataset
    DPOTrainer._get_train_sampler = (
        lambda self, *args, **kw: SequentialSampler(self.train_dataset))
    args = DPOConfig(output_dir=tempfile.mkdtemp(), report_to=[],
                     per_device_train_batch_size=batch, beta=0.1,
                     loss_type=["sigmoid"], save_strategy="no",
                     remove_unused_columns=False, **config_kwargs)
    return DPOTrainer(model=model, args=args,
                      train_dataset=Dataset.from_list(rows),
                      processing_class=tokenizer_for(
                          model.config.vocab_size), **trainer_kwargs)


def parity(a):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    directory = Path(a.dir)
    pairs = json.loads((directory / "pairs.json").read_text())[:a.batch]
    base = AutoModelForCausalLM.from_pretrained(directory / "model",
                                                dtype=torch.float32)
    model = PeftModel.from_pretrained(base, directory / "peft",
                                      is_trainable=True).cuda()
    trainer = trainer_for(model, a.batch, {"bf16": False, "fp16": False},
                          pairs)
    trainer.model.train()
    batch = trainer.data_collator(pairs)
    batch = {k: v.cuda() for k, v in batch.items()}
    with torch.no_grad():
        loss = trainer._compute_loss(trainer.model, batch, False)
    m = trainer._metrics["train"]
    print(json.dumps({
        "loss": loss.item(),
        "rewards_chosen": m["rewards/chosen"][-1],
        "rewards_rejected": m["rewards/rejected"][-1],
        "reward_margin": m["rewards/margins"][-1],
        "reward_accuracy": m["rewards/accuracies"][-1],
        "trl": __import__("trl").__version__}))


def timed(a):
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, TrainerCallback
    directory = Path(a.dir)
    pairs = json.loads((directory / "pairs.json").read_text())[:a.batch]
    steps = a.warmup + a.steps
    model = AutoModelForCausalLM.from_pretrained(directory / "model",
                                                 dtype=torch.bfloat16).cuda()
    times = []

    class StepTimer(TrainerCallback):
        def on_step_begin(self, *args, **kw):
            torch.cuda.synchronize()
            self.t0 = time.perf_counter()

        def on_step_end(self, *args, **kw):
            torch.cuda.synchronize()
            times.append(time.perf_counter() - self.t0)

    lora = LoraConfig(r=RANK, lora_alpha=int(SCALE * RANK), lora_dropout=0.0,
                      target_modules=[n for ns in PROJECTIONS.values()
                                      for n in ns], task_type="CAUSAL_LM")
    trainer = trainer_for(model, a.batch,
                          {"bf16": True, "learning_rate": 1e-4,
                           "max_steps": steps, "logging_steps": 1,
                           "lr_scheduler_type": "constant",
                           "gradient_checkpointing": False},
                          pairs * steps, peft_config=lora,
                          callbacks=[StepTimer()])
    torch.cuda.reset_peak_memory_stats()
    trainer.train()
    measured = sorted(times[a.warmup:])
    median = statistics.median(measured)
    tokens = sum(2 * len(p["prompt_ids"]) + len(p["chosen_ids"]) +
                 len(p["rejected_ids"]) for p in pairs)
    print(json.dumps({
        "peer": "trl", "trl": __import__("trl").__version__,
        "pairs": a.batch, "tokens_per_step": tokens, "step_s": median,
        "step_min_s": measured[0], "step_max_s": measured[-1],
        "tok_s": tokens / median,
        "peak_gib": torch.cuda.max_memory_allocated() / 2**30,
        "losses": [h["loss"] for h in trainer.state.log_history
                   if "loss" in h]}))


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawTextHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    pr = sub.add_parser("prepare")
    pr.add_argument("--out", required=True)
    pr.add_argument("--shape", choices=SHAPES, default="small")
    pr.add_argument("--pairs", type=int, default=4)
    pr.add_argument("--prompt", type=int, default=24)
    pr.add_argument("--completion", type=int, default=16)
    pr.add_argument("--seed", type=int, default=0)
    for name in ("parity", "time"):
        s = sub.add_parser(name)
        s.add_argument("--dir", required=True)
        s.add_argument("--batch", type=int, default=4)
        s.add_argument("--steps", type=int, default=12)
        s.add_argument("--warmup", type=int, default=3)
    a = p.parse_args()
    {"prepare": prepare, "parity": parity, "time": timed}[a.command](a)


if __name__ == "__main__":
    sys.exit(main())

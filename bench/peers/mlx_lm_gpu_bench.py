"""mlx-lm's own training step on the GPU headline workloads, measured the way
bench/gpu/train_bench.cpp and the HF+PEFT peer measure theirs.

Usage: python bench/peers/mlx_lm_gpu_bench.py --shape llama1b|qwen05b
           --mode lora|full --batch B --seq T [--steps 12] [--warmup 3]

The model is mlx-lm's own class (mlx_lm.models.llama) at the shape's
hyper-parameters with random bf16 weights; LoRA is mlx-lm's
linear_to_lora_layers (rank 16, scale 2 = PEFT alpha 32, all seven
projections of every block); the loss is mlx_lm.tuner.trainer.default_loss;
the step is built as mlx_lm.tuner.trainer.train builds it (nn.value_and_grad
over the model, AdamW lr 1e-4, mx.compile with the model, optimizer and RNG
state as inputs and outputs). Random tokens, B x (T + 1) so the model sees T
inputs. Prints one JSON line: median step time over `steps` synchronised
steps after `warmup`, tokens/s, peak memory.
"""

import argparse
import json
import statistics
import time
from functools import partial

import mlx.core as mx
import mlx.nn as nn
import mlx.optimizers as optim
from mlx.utils import tree_flatten
from mlx_lm.models import llama
from mlx_lm.tuner.trainer import default_loss
from mlx_lm.tuner.utils import linear_to_lora_layers

# The shapes of bench/gpu/train_bench.cpp (both are llama-architecture
# models there; Qwen-0.5B's q/k/v biases are left out on both sides).
SHAPES = {
    "llama1b": dict(
        vocab_size=128256,
        hidden_size=2048,
        intermediate_size=8192,
        num_hidden_layers=16,
        num_attention_heads=32,
        num_key_value_heads=8,
        max_position_embeddings=4096,
        rope_theta=500000.0,
        tie_word_embeddings=True,
        rms_norm_eps=1e-5,
    ),
    "qwen05b": dict(
        vocab_size=151936,
        hidden_size=896,
        intermediate_size=4864,
        num_hidden_layers=24,
        num_attention_heads=14,
        num_key_value_heads=2,
        max_position_embeddings=4096,
        rope_theta=1000000.0,
        tie_word_embeddings=True,
        rms_norm_eps=1e-6,
    ),
}

PROJECTIONS = [
    "self_attn.q_proj",
    "self_attn.k_proj",
    "self_attn.v_proj",
    "self_attn.o_proj",
    "mlp.gate_proj",
    "mlp.up_proj",
    "mlp.down_proj",
]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--shape", choices=SHAPES, default="llama1b")
    p.add_argument("--mode", choices=["lora", "full"], default="lora")
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--seq", type=int, default=2048)
    p.add_argument("--steps", type=int, default=12)
    p.add_argument("--warmup", type=int, default=3)
    a = p.parse_args()

    args = llama.ModelArgs(model_type="llama", **SHAPES[a.shape])
    model = llama.Model(args)
    model.set_dtype(mx.bfloat16)
    if a.mode == "lora":
        model.freeze()
        linear_to_lora_layers(
            model,
            args.num_hidden_layers,
            {"rank": 16, "scale": 2.0, "dropout": 0.0, "keys": PROJECTIONS},
        )
    mx.eval(model.parameters())
    trainable = sum(v.size for _, v in tree_flatten(model.trainable_parameters()))

    optimizer = optim.AdamW(learning_rate=1e-4)
    loss_value_and_grad = nn.value_and_grad(model, default_loss)
    state = [model.state, optimizer.state, mx.random.state]

    @partial(mx.compile, inputs=state, outputs=state)
    def step(batch, lengths):
        (loss, tokens), grad = loss_value_and_grad(model, batch, lengths)
        optimizer.update(model, grad)
        return loss, tokens

    batch = mx.random.randint(0, args.vocab_size, (a.batch, a.seq + 1))
    lengths = mx.array([[0, a.seq + 1]] * a.batch)
    mx.eval(batch, lengths)
    times = []
    for i in range(a.warmup + a.steps):
        if i == a.warmup:
            mx.reset_peak_memory()
        t0 = time.perf_counter()
        loss, _ = step(batch, lengths)
        mx.eval(state, loss)
        if i >= a.warmup:
            times.append(time.perf_counter() - t0)
    seconds = statistics.median(times)
    print(
        json.dumps(
            {
                "framework": "mlx-lm",
                "shape": a.shape,
                "mode": a.mode,
                "batch": a.batch,
                "seq": a.seq,
                "trainable_parameters": trainable,
                "step_seconds": seconds,
                "tokens_per_sec": a.batch * a.seq / seconds,
                "peak_memory_gib": mx.get_peak_memory() / 2**30,
                "loss": loss.item(),
            }
        )
    )


if __name__ == "__main__":
    main()

"""Reference logits from mlx-lm for a model folder.

Usage: mlx_lm_logits.py MODEL_DIR TOKENS_JSON OUT.safetensors [ADAPTER_DIR]

TOKENS_JSON is a JSON list of lists of token ids (one row per sequence, equal
lengths). Writes {"logits": (B, T, V) float32} computed by mlx-lm's own model
classes, on the CPU, with the model's weights as stored.
"""

import json
import sys
from pathlib import Path

import mlx.core as mx
from mlx_lm.tuner.utils import load_adapters
from mlx_lm.utils import load_model


def main() -> None:
    model_dir, tokens_file, out_file = sys.argv[1:4]
    mx.set_default_device(mx.cpu)
    model, _ = load_model(Path(model_dir))
    if len(sys.argv) > 4:
        model = load_adapters(model, sys.argv[4])
    model.eval()
    tokens = mx.array(json.loads(Path(tokens_file).read_text()), dtype=mx.int32)
    logits = model(tokens).astype(mx.float32)
    mx.save_safetensors(out_file, {"logits": logits})


if __name__ == "__main__":
    main()

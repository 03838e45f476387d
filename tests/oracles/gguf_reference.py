"""Reference results for a llama GGUF file, independent of MLX's GGUF reader.

Usage: gguf_reference.py MODEL.gguf REQUEST.json OUT_DIR

The tensors are read and dequantized by `gguf` (llama.cpp's own Python
package) and run through mlx-lm's llama model in fp32 on the CPU, in the
file's own row order with adjacent-pair ("traditional") rotary embeddings,
which is what llama.cpp computes. No row permutation is undone here, so
agreement with mlxt (which restores Hugging Face's row order and uses
rotate-half rotary) proves that mlxt undoes the converter's permutation.

The tokenizer is HF `tokenizers` built from the file's vocabulary and merges
with llama.cpp's pre-tokenizer for the file's `tokenizer.ggml.pre`
(src/llama-vocab.cpp: "smollm" splits every digit, then GPT-2's regex).

REQUEST.json: {"tokens": [[ids...], ...] (equal lengths),
               "prompts": [[ids...], ...], "max_tokens": N,
               "texts": ["...", ...]}
Writes OUT_DIR/logits.safetensors ({"logits": (B, T, V) float32}) and
OUT_DIR/result.json ({"greedy": [[ids...]], "encoded": [[ids...]]}).
"""

import json
import sys
from pathlib import Path

import gguf
import mlx.core as mx
import numpy as np
from mlx_lm.models import llama
from mlx_lm.models.cache import make_prompt_cache
from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers

BLOCK_NAMES = {
    "attn_norm": "input_layernorm",
    "ffn_norm": "post_attention_layernorm",
    "attn_q": "self_attn.q_proj",
    "attn_k": "self_attn.k_proj",
    "attn_v": "self_attn.v_proj",
    "attn_output": "self_attn.o_proj",
    "ffn_gate": "mlp.gate_proj",
    "ffn_up": "mlp.up_proj",
    "ffn_down": "mlp.down_proj",
}
GLOBAL_NAMES = {
    "token_embd": "model.embed_tokens",
    "output_norm": "model.norm",
    "output": "lm_head",
}


def field(reader, key):
    f = reader.fields[key]
    if f.types[0] == gguf.GGUFValueType.ARRAY:
        if f.types[-1] == gguf.GGUFValueType.STRING:
            return [bytes(f.parts[i]).decode("utf-8") for i in f.data]
        return [f.parts[i].tolist()[0] for i in f.data]
    if f.types[0] == gguf.GGUFValueType.STRING:
        return bytes(f.parts[f.data[0]]).decode("utf-8")
    return f.parts[f.data[0]].tolist()[0]


def hf_name(name):
    base, suffix = name.rsplit(".", 1)
    parts = base.split(".")
    if parts[0] == "blk":
        return f"model.layers.{parts[1]}.{BLOCK_NAMES[parts[2]]}.{suffix}"
    return f"{GLOBAL_NAMES[base]}.{suffix}"


def load_model(reader):
    heads = field(reader, "llama.attention.head_count")
    args = llama.ModelArgs(
        model_type="llama",
        hidden_size=field(reader, "llama.embedding_length"),
        num_hidden_layers=field(reader, "llama.block_count"),
        intermediate_size=field(reader, "llama.feed_forward_length"),
        num_attention_heads=heads,
        num_key_value_heads=field(reader, "llama.attention.head_count_kv"),
        rms_norm_eps=field(reader, "llama.attention.layer_norm_rms_epsilon"),
        vocab_size=len(field(reader, "tokenizer.ggml.tokens")),
        rope_theta=field(reader, "llama.rope.freq_base"),
        rope_traditional=True,
        tie_word_embeddings=not any(t.name == "output.weight" for t in reader.tensors),
    )
    model = llama.Model(args)
    weights = []
    for t in reader.tensors:
        dense = gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float32)
        weights.append((hf_name(t.name), mx.array(dense)))
    model.load_weights(weights)
    model.eval()
    return model


def greedy(model, prompt, max_tokens):
    cache = make_prompt_cache(model)
    logits = model(mx.array([prompt]), cache=cache)
    out = []
    for _ in range(max_tokens):
        token = int(mx.argmax(logits[0, -1]).item())
        out.append(token)
        logits = model(mx.array([[token]]), cache=cache)
    return out


def load_tokenizer(reader):
    pre = field(reader, "tokenizer.ggml.pre")
    if pre != "smollm":
        sys.exit(f"gguf_reference.py: pre-tokenizer {pre!r} not covered")
    tokens = field(reader, "tokenizer.ggml.tokens")
    merges = [tuple(m.split(" ")) for m in field(reader, "tokenizer.ggml.merges")]
    types = field(reader, "tokenizer.ggml.token_type")
    tok = Tokenizer(models.BPE({t: i for i, t in enumerate(tokens)}, merges))
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(r"\p{N}"), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
        ]
    )
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens([t for t, ty in zip(tokens, types) if ty == 3])
    return tok


def main():
    gguf_file, request_file, out_dir = sys.argv[1:4]
    mx.set_default_device(mx.cpu)
    request = json.loads(Path(request_file).read_text())
    reader = gguf.GGUFReader(gguf_file)
    out = Path(out_dir)
    result = {}
    if request.get("texts"):
        tok = load_tokenizer(reader)
        result["encoded"] = [tok.encode(t, add_special_tokens=False).ids
                             for t in request["texts"]]
    if request.get("tokens") or request.get("prompts"):
        model = load_model(reader)
        if request.get("tokens"):
            logits = model(mx.array(request["tokens"], dtype=mx.int32))
            mx.save_safetensors(str(out / "logits.safetensors"),
                                {"logits": logits.astype(mx.float32)})
        result["greedy"] = [greedy(model, p, request["max_tokens"])
                            for p in request.get("prompts", [])]
    (out / "result.json").write_text(json.dumps(result))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Rebuilds a real tokenizer.json from the parts a fixture ships, for the
tokenizer parity tests.

Usage:
  tokenizer_from_parts.py gpt2 SRC_DIR OUT_DIR
      SRC_DIR holds GPT-2's vocab.json and merges.txt. Writes GPT-2's
      tokenizer.json: ByteLevel pre-tokenizer and decoder, <|endoftext|>.
  tokenizer_from_parts.py qwen2 SRC_DIR OUT_DIR
      SRC_DIR holds vocab.json, merges.txt and tokenizer_config.json (Qwen2 /
      Qwen2.5 / Qwen3). Writes the tokenizer.json Qwen ships: NFC normalizer,
      Split with the Qwen regex, ByteLevel without prefix space or regex, a
      ByteLevel decoder, and the config's added tokens.
  tokenizer_from_parts.py tiktoken MODEL_FILE CONFIG_FILE OUT_DIR
      MODEL_FILE is a tiktoken rank file (Llama 3). Converted with
      transformers' TikTokenConverter, the config's added tokens, and BOS
      framing as Meta's Llama 3 tokenizer.json has.
qwen2 and tiktoken copy the tokenizer_config.json into OUT_DIR.
"""
import base64
import json
import os
import shutil
import sys

from tokenizers import AddedToken, Regex, Tokenizer, decoders, models
from tokenizers import normalizers, pre_tokenizers, processors

QWEN_PATTERN = (
    r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
)


def added_tokens(config):
    decoder = config.get("added_tokens_decoder", {})
    return [
        (int(i), AddedToken(t["content"], single_word=t["single_word"], lstrip=t["lstrip"],
                            rstrip=t["rstrip"], normalized=t["normalized"], special=t["special"]))
        for i, t in sorted(decoder.items(), key=lambda item: int(item[0]))
    ]


def add_tokens(tokenizer, config):
    for expected_id, token in added_tokens(config):
        tokenizer.add_tokens([token]) if not token.special else tokenizer.add_special_tokens([token])
        actual = tokenizer.token_to_id(token.content)
        if actual != expected_id:
            raise SystemExit(f"{token.content}: id {actual}, config says {expected_id}")


def vocab_and_merges(src_dir):
    with open(os.path.join(src_dir, "vocab.json"), encoding="utf-8") as f:
        vocab = json.load(f)
    merges = []
    with open(os.path.join(src_dir, "merges.txt"), encoding="utf-8") as f:
        for line in f.read().split("\n"):
            if line and not line.startswith("#version"):
                left, right = line.split(" ")
                merges.append((left, right))
    return vocab, merges


def gpt2(src_dir, out_dir):
    vocab, merges = vocab_and_merges(src_dir)
    tokenizer = Tokenizer(models.BPE(vocab, merges))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.post_processor = processors.ByteLevel(trim_offsets=False)
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.add_special_tokens([AddedToken("<|endoftext|>", special=True, normalized=False)])
    tokenizer.save(os.path.join(out_dir, "tokenizer.json"))


def qwen2(src_dir, out_dir):
    vocab, merges = vocab_and_merges(src_dir)
    with open(os.path.join(src_dir, "tokenizer_config.json"), encoding="utf-8") as f:
        config = json.load(f)
    tokenizer = Tokenizer(models.BPE(vocab, merges, unk_token=None, fuse_unk=False, byte_fallback=False))
    tokenizer.normalizer = normalizers.NFC()
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN_PATTERN), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False, trim_offsets=False),
    ])
    tokenizer.post_processor = processors.ByteLevel(trim_offsets=False)
    tokenizer.decoder = decoders.ByteLevel()
    add_tokens(tokenizer, config)
    tokenizer.save(os.path.join(out_dir, "tokenizer.json"))
    shutil.copyfile(os.path.join(src_dir, "tokenizer_config.json"),
                    os.path.join(out_dir, "tokenizer_config.json"))


def tiktoken(model_file, config_file, out_dir):
    from transformers.convert_slow_tokenizer import TikTokenConverter

    def load_ranks(path):
        ranks = {}
        with open(path, "rb") as f:
            for line in f.read().splitlines():
                if line:
                    token, rank = line.split()
                    ranks[base64.b64decode(token)] = int(rank)
        return ranks

    # The converter reads the rank file through the `tiktoken` package; the
    # format is two columns, read here directly.
    TikTokenConverter.load_tiktoken_bpe = staticmethod(load_ranks)
    tokenizer = TikTokenConverter(vocab_file=model_file).converted()
    with open(config_file, encoding="utf-8") as f:
        config = json.load(f)
    add_tokens(tokenizer, config)
    bos = config["bos_token"]
    bos = bos["content"] if isinstance(bos, dict) else bos
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A", pair=f"{bos} $A {bos} $B",
        special_tokens=[(bos, tokenizer.token_to_id(bos))])
    tokenizer.save(os.path.join(out_dir, "tokenizer.json"))
    shutil.copyfile(config_file, os.path.join(out_dir, "tokenizer_config.json"))


def main():
    kind = sys.argv[1]
    if kind == "gpt2":
        gpt2(sys.argv[2], sys.argv[3])
    elif kind == "qwen2":
        qwen2(sys.argv[2], sys.argv[3])
    elif kind == "tiktoken":
        tiktoken(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        raise SystemExit(f"unknown kind {kind}")


if __name__ == "__main__":
    main()

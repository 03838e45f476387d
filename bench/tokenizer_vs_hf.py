#!/usr/bin/env python3
"""Tokenizer throughput: mlxt against Hugging Face `tokenizers` on this machine.

Both encode the same texts (tinyshakespeare cut at blank lines, ~1.1 MB) with
the same tokenizers from ../shared/fixtures, without special tokens: one text
after another on one thread, and as one batch over --threads threads (ours:
Tokenizer::encode_batch; HF: encode_batch with RAYON_NUM_THREADS). Each is
the best of --repeats runs. The ids must agree (checksum), else the script
fails. Writes a Markdown table with the ratios to --out.

  cmake --build build --target tokenizer_bench
  .deps/venv/bin/python bench/tokenizer_vs_hf.py --out bench/results/DATE-tokenizer-vs-hf.md
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "..", "shared", "fixtures")


def checksum(all_ids):
    value = 0
    for ids in all_ids:
        for i in ids:
            value = (value * 31 + i) % (1 << 64)
    return value


def hf_times(tokenizer_json, texts, repeats):
    from tokenizers import Tokenizer

    start = time.perf_counter()
    tokenizer = Tokenizer.from_file(tokenizer_json)
    load_s = time.perf_counter() - start
    single_s = batch_s = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        ids = [tokenizer.encode(t, add_special_tokens=False).ids for t in texts]
        single_s = min(single_s, time.perf_counter() - start)
        start = time.perf_counter()
        tokenizer.encode_batch(texts, add_special_tokens=False)
        batch_s = min(batch_s, time.perf_counter() - start)
    return {"load_s": load_s, "single_s": single_s, "batch_s": batch_s,
            "tokens": sum(len(i) for i in ids), "ids_checksum": checksum(ids)}


def ours_times(bench, model_dir, texts_file, threads, repeats, work):
    out = os.path.join(work, "ours.json")
    subprocess.run([bench, model_dir, texts_file, str(threads), str(repeats), out], check=True)
    with open(out) as f:
        return json.load(f)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bench", default=os.path.join(ROOT, "build", "bench", "tokenizer_bench"))
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    os.environ["RAYON_NUM_THREADS"] = str(args.threads)

    with open(os.path.join(FIXTURES, "corpora", "tinyshakespeare", "input.txt"), encoding="utf-8") as f:
        texts = [p for p in f.read().split("\n\n") if p]
    work = tempfile.mkdtemp(prefix="tokbench-")
    texts_file = os.path.join(work, "texts.json")
    with open(texts_file, "w", encoding="utf-8") as f:
        json.dump(texts, f)

    toks = os.path.join(FIXTURES, "tokenizers")
    parts = os.path.join(ROOT, "tests", "oracles", "tokenizer_from_parts.py")
    qwen = os.path.join(work, "qwen2.5")
    llama3_hf = os.path.join(work, "llama3-hf")
    llama3_ours = os.path.join(work, "llama3-tiktoken")
    for d in (qwen, llama3_hf, llama3_ours):
        os.makedirs(d)
    subprocess.run([sys.executable, parts, "qwen2", os.path.join(toks, "qwen2.5-vocab-merges"), qwen], check=True)
    llama3_config = os.path.join(toks, "llama3-hf-config", "tokenizer_config.json")
    subprocess.run([sys.executable, parts, "tiktoken", os.path.join(toks, "llama3-tiktoken", "tokenizer.model"),
                    llama3_config, llama3_hf], check=True)
    for name in ("tokenizer.model",):
        with open(os.path.join(toks, "llama3-tiktoken", name), "rb") as src, \
                open(os.path.join(llama3_ours, name), "wb") as dst:
            dst.write(src.read())
    with open(llama3_config, "rb") as src, open(os.path.join(llama3_ours, "tokenizer_config.json"), "wb") as dst:
        dst.write(src.read())

    # (name, our model folder, HF tokenizer.json)
    cases = [
        ("GPT-2 (byte-level BPE)", os.path.join(toks, "gpt2-hf"), os.path.join(toks, "gpt2-hf", "tokenizer.json")),
        ("Llama 2 (SentencePiece-style BPE)", os.path.join(toks, "llama2-hf"),
         os.path.join(toks, "llama2-hf", "tokenizer.json")),
        ("Qwen2.5 (NFC + Split + byte-level)", qwen, os.path.join(qwen, "tokenizer.json")),
        ("Llama 3 (ours: tiktoken file; HF: converted)", llama3_ours, os.path.join(llama3_hf, "tokenizer.json")),
    ]
    rows = []
    for name, ours_dir, hf_json in cases:
        ours = ours_times(args.bench, ours_dir, texts_file, args.threads, args.repeats, work)
        hf = hf_times(hf_json, texts, args.repeats)
        if (ours["tokens"], ours["ids_checksum"]) != (hf["tokens"], hf["ids_checksum"]):
            sys.exit(f"{name}: ids differ (ours {ours['tokens']} tokens, HF {hf['tokens']})")
        rows.append((name, ours, hf))
        print(name, json.dumps(ours), json.dumps(hf), flush=True)

    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    import tokenizers
    mb = sum(len(t.encode()) for t in texts) / 1e6
    lines = [
        "# Tokenizer throughput: mlxt against HF tokenizers",
        "",
        f"Command: `.deps/venv/bin/python bench/tokenizer_vs_hf.py --threads {args.threads} "
        f"--repeats {args.repeats} --out {os.path.relpath(args.out, ROOT)}`",
        "",
        f"Machine: {cpu}, {os.cpu_count()} cores visible (shared with other work while it ran); "
        f"HF tokenizers {tokenizers.__version__}; mlxt: {os.path.relpath(args.bench, ROOT)}.",
        "",
        f"Input: tinyshakespeare cut at blank lines, {len(texts)} texts, {mb:.2f} MB; "
        "no special tokens; ids identical (checked). Best of "
        f"{args.repeats} runs. Ratio = HF time / mlxt time (above 1: mlxt is faster).",
        "",
        f"| tokenizer | tokens | mlxt 1 thread (s) | HF 1 thread (s) | ratio | mlxt batch x{args.threads} (s) "
        f"| HF batch x{args.threads} (s) | ratio | load mlxt / HF (s) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, ours, hf in rows:
        lines.append(
            f"| {name} | {ours['tokens']} | {ours['single_s']:.3f} | {hf['single_s']:.3f} | "
            f"{hf['single_s'] / ours['single_s']:.2f} | {ours['batch_s']:.3f} | {hf['batch_s']:.3f} | "
            f"{hf['batch_s'] / ours['batch_s']:.2f} | {ours['load_s']:.2f} / {hf['load_s']:.2f} |")
    with open(args.out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()

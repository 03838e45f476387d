#!/usr/bin/env python3
"""Data pipeline throughput: mlxt vs Hugging Face `datasets` + `tokenizers`.

The same work on the same machine, side by side: read an Alpaca JSON file,
validate every row, tokenize prompt + answer + EOS (the tokenizer has no chat
template, so both sides encode the plain concatenation), truncate to the
maximum length, and pack the examples into rows (first fit, longest first).

    python3 -m venv .deps/bench-venv
    .deps/bench-venv/bin/pip install datasets tokenizers
    .deps/bench-venv/bin/python bench/data_vs_hf_datasets.py \
        --data ../shared/fixtures/datasets/alpaca-cleaned-ext/gsm_8k_train.json \
        --tokenizer ../shared/fixtures/tokenizers/gpt2-hf --repeat 3

Prints one JSON line per side and the ratio (mlxt rows/s over HF rows/s).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time


def hf_pipeline(data, tokenizer_dir, max_len):
    import datasets
    from tokenizers import Tokenizer

    datasets.disable_caching()
    datasets.disable_progress_bars()
    tok = Tokenizer.from_file(os.path.join(tokenizer_dir, "tokenizer.json"))
    eos = tok.token_to_id("<|endoftext|>")
    t0 = time.perf_counter()
    ds = datasets.load_dataset("json", data_files=data, split="train")

    def valid(row):
        out = row.get("output", row.get("response"))
        return isinstance(row.get("instruction"), str) and isinstance(out, str)

    ds = ds.filter(valid)

    def encode(batch):
        prompts = [
            i + ("\n\n" + x if x else "")
            for i, x in zip(batch["instruction"], batch["input"])
        ]
        p = tok.encode_batch(prompts, add_special_tokens=True)
        a = tok.encode_batch(batch["output"], add_special_tokens=False)
        ids = []
        for pe, ae in zip(p, a):
            seq = pe.ids + ae.ids + [eos]
            ids.append(seq[:max_len])
        return {"input_ids": ids}

    ds = ds.map(encode, batched=True, remove_columns=ds.column_names)
    lengths = [len(x) - 1 for x in ds["input_ids"]]
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    free = []
    for i in order:  # first fit, longest first, as mlxt packs
        for r, f in enumerate(free):
            if f >= lengths[i]:
                free[r] -= lengths[i]
                break
        else:
            free.append(max_len - 1 - lengths[i])
    seconds = time.perf_counter() - t0
    return {
        "rows": len(lengths),
        "tokens": sum(lengths) + len(lengths),
        "packed_rows": len(free),
        "seconds": seconds,
        "rows_per_sec": len(lengths) / seconds,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--tokenizer", required=True)
    ap.add_argument("--max-seq-length", type=int, default=2048)
    ap.add_argument("--repeat", type=int, default=1,
                    help="concatenate the data N times (longer timing)")
    ap.add_argument("--bench", default="build/bench/data_bench")
    args = ap.parse_args()
    rows = json.load(open(args.data))
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "data.json")
        json.dump(rows * args.repeat, open(data, "w"))
        mlxt = json.loads(subprocess.run(
            [args.bench, "pipeline", "--data", data, "--tokenizer",
             args.tokenizer, "--max-seq-length", str(args.max_seq_length)],
            check=True, capture_output=True, text=True).stdout)
        hf = hf_pipeline(data, args.tokenizer, args.max_seq_length)
    print(json.dumps({"mlxt": mlxt}))
    print(json.dumps({"hf": hf}))
    same = (mlxt["tokens"] == hf["tokens"], mlxt["packed_rows"] == hf["packed_rows"])
    print(json.dumps({"ratio_rows_per_sec": mlxt["rows_per_sec"] / hf["rows_per_sec"],
                      "same_tokens": same[0], "same_packed_rows": same[1]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

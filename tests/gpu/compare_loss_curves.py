"""Compares two training runs' loss curves (metrics.jsonl from mlxt train):
the bf16 GPU run against the fp32 CPU reference of tests/gpu/train_run.sh.

Usage: compare_loss_curves.py REFERENCE_METRICS OTHER_METRICS [--tolerance R]

Prints each reported step's train loss and each evaluation's validation loss
from both runs with their relative difference, and exits 1 when any differs
by more than R (default 0.05: bf16 keeps 8 bits of mantissa, so a 150-step
run drifts by a few percent at most when both compute the same thing).
"""

import argparse
import json
import sys


def losses(path):
    """{(kind, step): loss} for train reports and evaluations."""
    out = {}
    with open(path) as f:
        for line in f:
            event = json.loads(line)
            if event.get("event") == "train":
                out[("train", event["step"])] = event["loss"]
            elif event.get("event") == "eval":
                out[("val", event["step"])] = event["val_loss"]
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("reference")
    parser.add_argument("other")
    parser.add_argument("--tolerance", type=float, default=0.05)
    args = parser.parse_args()
    ref, other = losses(args.reference), losses(args.other)
    keys = sorted(set(ref) & set(other), key=lambda k: (k[1], k[0]))
    if not keys or set(ref) != set(other):
        print(f"the runs report different steps: {sorted(set(ref) ^ set(other))}")
        return 1
    worst = 0.0
    print(f"{'kind':5} {'step':>5} {'reference':>10} {'other':>10} {'rel diff':>9}")
    for kind, step in keys:
        a, b = ref[(kind, step)], other[(kind, step)]
        rel = abs(a - b) / abs(a)
        worst = max(worst, rel)
        print(f"{kind:5} {step:5d} {a:10.4f} {b:10.4f} {rel:9.4f}")
    verdict = "within" if worst <= args.tolerance else "OVER"
    print(f"max relative difference {worst:.4f}: {verdict} tolerance {args.tolerance}")
    return 0 if worst <= args.tolerance else 1


if __name__ == "__main__":
    sys.exit(main())

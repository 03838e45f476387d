"""Reference reward-model (Bradley-Terry) loss in NumPy float64.

Usage: reward_loss_reference.py CASES_JSON OUT_JSON

CASES_JSON is {"cases": [{"name", "chosen": [r_c...], "rejected": [r_r...],
"margin": [m...], "center_rewards_coefficient": c}, ...]}; OUT_JSON is
{"cases": [{"name", "loss", "rewards_chosen", "rewards_rejected",
"reward_margin", "reward_accuracy"}, ...]}, every value a mean over the pairs.

The loss is TRL's RewardTrainer.compute_loss written out from the
Bradley-Terry model (InstructGPT, Ouyang et al. 2022, eq. 1):
  -log sigmoid(r_c - r_r - m), averaged, plus
  c * mean((r_c + r_r)^2) (Eisenstein et al. 2023, eq. 2).
"""
import json
import sys

import numpy as np


def reference(case):
    rc = np.asarray(case["chosen"], dtype=np.float64)
    rr = np.asarray(case["rejected"], dtype=np.float64)
    m = np.asarray(case["margin"], dtype=np.float64)
    c = float(case["center_rewards_coefficient"])
    # -log sigmoid(x) = log(1 + exp(-x)), stable for large |x|.
    loss = np.mean(np.logaddexp(0.0, -(rc - rr - m)))
    if c:
        loss += c * np.mean((rc + rr) ** 2)
    return {
        "name": case["name"],
        "loss": float(loss),
        "rewards_chosen": float(np.mean(rc)),
        "rewards_rejected": float(np.mean(rr)),
        "reward_margin": float(np.mean(rc - rr)),
        "reward_accuracy": float(np.mean(rc > rr)),
    }


def main():
    with open(sys.argv[1]) as f:
        cases = json.load(f)["cases"]
    with open(sys.argv[2], "w") as f:
        json.dump({"cases": [reference(c) for c in cases]}, f)


if __name__ == "__main__":
    main()

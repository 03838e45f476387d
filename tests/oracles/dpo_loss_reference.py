"""Reference DPO-family losses: NumPy float64, written from the papers.

Usage: dpo_loss_reference.py CASES_JSON OUT_JSON

CASES_JSON is {"cases": [case, ...]}, each case:
  {"name": str,
   "loss_type": "sigmoid" | "robust" | "ipo" | "hinge" | "simpo" | "orpo",
   "beta": float, "label_smoothing": float, "simpo_gamma": float,
   "policy_chosen", "policy_rejected", "ref_chosen", "ref_rejected":
       [summed answer log-probs per pair],
   "len_chosen", "len_rejected": [answer tokens per pair]}

OUT_JSON is {"cases": [{"name", "loss": mean over pairs,
  "metrics": {name: mean over pairs}}]} with the metrics rewards_chosen,
rewards_rejected, reward_margin, reward_accuracy (and nll_loss,
log_odds_ratio for orpo).

Each loss is written from its paper, in the form TRL's trainers use where the
paper leaves a choice open (which log-probs are length-averaged, what the
rewards report):
  sigmoid  DPO (Rafailov et al. 2023, eq. 7) with conservative label
           smoothing eps (Mitchell 2023): -(1-eps) log s(b h) - eps log s(-b h)
  robust   rDPO (Chowdhury et al. 2024, eq. 8): ((1-eps) l(h) - eps l(-h)) /
           (1 - 2 eps), l(h) = -log s(b h)
  ipo      IPO (Azar et al. 2023, eq. 17): (h - 1/(2 b))^2, on log-probs
           averaged over the answer tokens
  hinge    SLiC (Zhao et al. 2023): max(0, 1 - b h)
  simpo    SimPO (Meng et al. 2024, eq. 6): -log s(b/|yw| log p(yw) -
           b/|yl| log p(yl) - gamma), label-smoothed as sigmoid
  orpo     ORPO (Hong et al. 2024, eqs. 4-7): L_SFT + lambda L_OR, L_OR =
           -log s(log(odds(yw) / odds(yl))), odds(y) = P(y) / (1 - P(y)),
           P(y) = exp(mean token log-prob); L_SFT the token-mean NLL of the
           batch's chosen answers; lambda = beta
with h = (log p(yw) - log p_ref(yw)) - (log p(yl) - log p_ref(yl)).
Rewards: b (log p - log p_ref) per answer, or b log p (averaged) for the
reference-free losses; accuracy: chosen reward > rejected reward.

Exits 77 (a skip) when NumPy is missing.
"""

import json
import sys

try:
    import numpy as np
except ImportError:
    print("SKIP: numpy is not installed in this Python")
    sys.exit(77)


def log_sigmoid(x):
    return -np.logaddexp(0.0, -x)


def case_result(c):
    kind = c["loss_type"]
    b = c["beta"]
    eps = c["label_smoothing"]
    pc = np.array(c["policy_chosen"], dtype=np.float64)
    pr = np.array(c["policy_rejected"], dtype=np.float64)
    rc = np.array(c["ref_chosen"], dtype=np.float64)
    rr = np.array(c["ref_rejected"], dtype=np.float64)
    nc = np.array(c["len_chosen"], dtype=np.float64)
    nr = np.array(c["len_rejected"], dtype=np.float64)
    metrics = {}
    if kind in ("ipo", "simpo", "orpo"):
        pc, pr, rc, rr = pc / nc, pr / nr, rc / nc, rr / nr
    if kind in ("simpo", "orpo"):
        reward_c, reward_r = b * pc, b * pr
    else:
        reward_c, reward_r = b * (pc - rc), b * (pr - rr)
    h = (pc - rc) - (pr - rr)
    if kind == "sigmoid":
        losses = -(1 - eps) * log_sigmoid(b * h) - eps * log_sigmoid(-b * h)
    elif kind == "robust":
        clean = -log_sigmoid(b * h)
        flipped = -log_sigmoid(-b * h)
        losses = ((1 - eps) * clean - eps * flipped) / (1 - 2 * eps)
    elif kind == "ipo":
        losses = (h - 1 / (2 * b)) ** 2
    elif kind == "hinge":
        losses = np.maximum(0.0, 1 - b * h)
    elif kind == "simpo":
        m = b * pc - b * pr - c["simpo_gamma"]
        losses = -(1 - eps) * log_sigmoid(m) - eps * log_sigmoid(-m)
    elif kind == "orpo":
        p_w, p_l = np.exp(pc), np.exp(pr)
        log_odds = np.log(p_w / (1 - p_w)) - np.log(p_l / (1 - p_l))
        ratio = log_sigmoid(log_odds)
        nll = -np.sum(np.array(c["policy_chosen"])) / np.sum(nc)
        losses = nll - b * ratio
        metrics["nll_loss"] = nll
        metrics["log_odds_ratio"] = float(np.mean(ratio))
    else:
        raise ValueError("unknown loss_type " + kind)
    metrics.update(
        {
            "rewards_chosen": float(np.mean(reward_c)),
            "rewards_rejected": float(np.mean(reward_r)),
            "reward_margin": float(np.mean(reward_c - reward_r)),
            "reward_accuracy": float(np.mean(reward_c > reward_r)),
        }
    )
    return {"name": c["name"], "loss": float(np.mean(losses)), "metrics": metrics}


def main():
    cases = json.load(open(sys.argv[1]))["cases"]
    out = {"cases": [case_result(c) for c in cases]}
    json.dump(out, open(sys.argv[2], "w"))


if __name__ == "__main__":
    main()

"""Reference RL objectives in float64 NumPy, written from the papers.

Usage: rl_reference.py CASES_JSON OUT_JSON

CASES_JSON is {"cases": [case, ...]}; each case has a "name", a "kind" and
its inputs; OUT_JSON is {"cases": [{"name", ...outputs}]}. Kinds:

  advantages  GRPO's group-relative advantages (Shao et al. 2024, DeepSeekMath
              sec. 4.1.2, with TRL's scale_rewards): rewards (N,), group_size
              G, scale "group" | "batch" | "none". A = r - mean(group), divided
              by std + 1e-4 where std is the unbiased (ddof=1) standard
              deviation of the group or the whole batch.
              -> {"advantages": [N]}
  grpo        GRPO's per-token objective (DeepSeekMath eq. 3; TRL's loss
              types): logps, old_logps, ref_logps, mask (N, T); advantages
              (N,); epsilon, epsilon_high, kl_coef, loss_type "grpo" | "dapo" |
              "dr_grpo", max_completion_length.
              ratio = exp(logp - old); l = -min(ratio A, clip(ratio, 1 - eps,
              1 + eps_high) A) + kl_coef k3, k3 = exp(ref - logp) - (ref -
              logp) - 1 (Schulman 2020, "Approximating KL Divergence").
              -> {"loss", "count", "kl", "clip_fraction"} as sums in the
              loss type's units (see src/mlxt/train/methods/grpo_loss.h).
  kl          the per-token estimators of KL(pi || ref) (Schulman 2020):
              logps, ref_logps (N,); log r = ref - logp; k1 = -log r, k2 =
              (log r)^2 / 2, k3 = (r - 1) - log r. -> {"k1", "k2", "k3"}
  gae         PPO's rollout phase for completions of different lengths
              (TRL's PPOTrainer; Ziegler et al. 2019 eq. 2; Schulman et al.
              2016): per row, kl (L,), values (L,), score; kl_coef, gamma,
              lam. r_t = -kl_coef kl_t (+ score at the last token); delta_t =
              r_t + gamma V_{t+1} - V_t with V past the end 0; A_t = delta_t +
              gamma lam A_{t+1}; R = A + V; then A whitened over every token
              (mean 0, unbiased variance, + 1e-8). -> {"rewards", "advantages",
              "returns", "whitened"} per row
  ppo         the clipped policy and value losses (Schulman et al. 2017
              eq. 7; TRL's value clipping): logps, old_logps, values,
              old_values, advantages, returns, mask (N, T); cliprange,
              cliprange_value, vf_coef. -> {"loss", "count", "policy_loss",
              "value_loss", "clip_fraction", "value_clip_fraction"} as sums
              over masked tokens
  adaptive_kl Ziegler et al.'s controller: init, target, horizon, updates
              [[kl, n_steps], ...]; e = clip(kl / target - 1, -0.2, 0.2),
              coef *= 1 + e n / horizon. -> {"values": coef after each}
"""

import json
import sys

import numpy as np


def advantages(case):
    r = np.asarray(case["rewards"], dtype=np.float64)
    g = case["group_size"]
    groups = r.reshape(-1, g)
    mean = np.repeat(groups.mean(axis=1), g)
    a = r - mean
    if case["scale"] == "group":
        a = a / (np.repeat(groups.std(axis=1, ddof=1), g) + 1e-4)
    elif case["scale"] == "batch":
        a = a / (r.std(ddof=1) + 1e-4)
    return {"advantages": a.tolist()}


def grpo(case):
    f = lambda k: np.asarray(case[k], dtype=np.float64)
    logp, old, ref, mask = f("logps"), f("old_logps"), f("ref_logps"), f("mask")
    adv = f("advantages")[:, None]
    eps_low, eps_high = case["epsilon"], case["epsilon_high"]
    ratio = np.exp(logp - old)
    clipped = np.clip(ratio, 1 - eps_low, 1 + eps_high)
    per_token = -np.minimum(ratio * adv, clipped * adv)
    d = ref - logp
    k3 = np.exp(d) - d - 1
    per_token = per_token + case["kl_coef"] * k3
    clip = ((ratio < 1 - eps_low) & (adv < 0)) | ((ratio > 1 + eps_high) & (adv > 0))
    clip = clip.astype(np.float64)
    if case["loss_type"] == "dapo":
        return {
            "loss": float((per_token * mask).sum()),
            "count": float(mask.sum()),
            "kl": float((k3 * mask).sum()),
            "clip_fraction": float((clip * mask).sum()),
        }
    lengths = np.maximum(mask.sum(axis=1), 1.0)
    row_mean = lambda x: float(((x * mask).sum(axis=1) / lengths).sum())
    if case["loss_type"] == "grpo":
        loss = row_mean(per_token)
    else:  # dr_grpo
        loss = float((per_token * mask).sum() / case["max_completion_length"])
    return {
        "loss": loss,
        "count": float(logp.shape[0]),
        "kl": row_mean(k3),
        "clip_fraction": row_mean(clip),
    }


def kl(case):
    logp = np.asarray(case["logps"], dtype=np.float64)
    ref = np.asarray(case["ref_logps"], dtype=np.float64)
    log_r = ref - logp
    return {
        "k1": (-log_r).tolist(),
        "k2": (0.5 * log_r**2).tolist(),
        "k3": (np.expm1(log_r) - log_r).tolist(),
    }


def gae(case):
    rewards, advs, rets = [], [], []
    for row in case["rows"]:
        k = np.asarray(row["kl"], dtype=np.float64)
        v = np.asarray(row["values"], dtype=np.float64)
        r = -case["kl_coef"] * k
        r[-1] += row["score"]
        a = np.zeros_like(r)
        last = 0.0
        for t in reversed(range(len(r))):
            next_v = v[t + 1] if t + 1 < len(r) else 0.0
            delta = r[t] + case["gamma"] * next_v - v[t]
            last = delta + case["gamma"] * case["lam"] * last
            a[t] = last
        rewards.append(r)
        advs.append(a)
        rets.append(a + v)
    flat = np.concatenate(advs)
    mean, var = flat.mean(), flat.var(ddof=1)
    whitened = [((a - mean) / np.sqrt(var + 1e-8)).tolist() for a in advs]
    return {
        "rewards": [r.tolist() for r in rewards],
        "advantages": [a.tolist() for a in advs],
        "returns": [r.tolist() for r in rets],
        "whitened": whitened,
    }


def ppo(case):
    f = lambda k: np.asarray(case[k], dtype=np.float64)
    logp, old, v, old_v = f("logps"), f("old_logps"), f("values"), f("old_values")
    adv, ret, mask = f("advantages"), f("returns"), f("mask")
    eps, eps_v = case["cliprange"], case["cliprange_value"]
    ratio = np.exp(logp - old)
    pg1 = -adv * ratio
    pg2 = -adv * np.clip(ratio, 1 - eps, 1 + eps)
    policy = np.maximum(pg1, pg2)
    v_clipped = np.clip(v, old_v - eps_v, old_v + eps_v)
    vf1 = (v - ret) ** 2
    vf2 = (v_clipped - ret) ** 2
    value = 0.5 * np.maximum(vf1, vf2)
    total = lambda x: float((x * mask).sum())
    return {
        "loss": total(policy) + case["vf_coef"] * total(value),
        "count": float(mask.sum()),
        "policy_loss": total(policy),
        "value_loss": total(value),
        "clip_fraction": total((pg2 > pg1).astype(np.float64)),
        "value_clip_fraction": total((vf2 > vf1).astype(np.float64)),
    }


def adaptive_kl(case):
    coef, out = case["init"], []
    for current, n in case["updates"]:
        e = np.clip(current / case["target"] - 1, -0.2, 0.2)
        coef *= 1 + e * n / case["horizon"]
        out.append(coef)
    return {"values": out}


KINDS = {
    "advantages": advantages,
    "grpo": grpo,
    "kl": kl,
    "gae": gae,
    "ppo": ppo,
    "adaptive_kl": adaptive_kl,
}


def main():
    cases = json.load(open(sys.argv[1]))["cases"]
    out = []
    for case in cases:
        result = KINDS[case["kind"]](case)
        result["name"] = case["name"]
        out.append(result)
    json.dump({"cases": out}, open(sys.argv[2], "w"))


if __name__ == "__main__":
    main()

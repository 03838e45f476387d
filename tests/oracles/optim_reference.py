"""Reference optimizer updates: NumPy float64 formulas and, where asked, optax.

Usage: optim_reference.py CASES_JSON OUT_JSON

CASES_JSON is {"cases": [case, ...]}, each case:
  {"name": str,
   "optimizer": "adamw" | "sgd" | "lion" | "adafactor" | "lamb" | "novograd",
   "hyper": {catalogue parameter: value, ...}   (every parameter, resolved),
   "schedule": {"name": catalogue schedule name, "params": {...},
                "warmup": int (0: none), "warmup_init": float},
   "params": [{"shape": [...], "values": [row-major floats]}, ...],
   "grads": [[values of param 0, values of param 1, ...] for each step],
   "optax": bool}

OUT_JSON is {"cases": [{"name", "lr": [lr per step],
  "numpy": {"params": [values per param], "state": [{slot: values} per param]},
  "optax": {"params": [...]} or {"refused": reason}  (only when asked)}]}.

The NumPy formulas are written from the papers in the variants that
src/mlxt/optim/optimizer.h states; where that variant is MLX's (AdamW, SGD,
Lion, Adafactor and the schedules follow mlx.optimizers, the warm-up follows
mlx-lm), the comment says so. Everything runs in float64: the C++ side runs in
float32 from the same float32 inputs, so the difference is its rounding only.

optax (Adafactor, LAMB, Lion, NovoGrad) runs on the CPU in float64 (jax x64),
configured to our variant. Where optax cannot be configured to it, the case's
optax answer is {"refused": reason} rather than a different formula's result:
  - adafactor: optax adds weight_decay_rate * w after momentum, not scaled by
    the step size alpha_t (ours, MLX's: w <- w - wd alpha_t w), so only
    weight_decay = 0 compares; optax floors RMS(w) at a fixed 1e-3 (eps2 must
    be 1e-3); optax factors the two largest axes where ours (MLX's) factors the
    last two, so every tensor of ndim >= 2 must have its two largest sizes
    last; relative_step is given to optax as a learning-rate schedule
    min(1e-2, 1/sqrt(t)) (min(1e-6 t, 1/sqrt(t)) with warmup_init), since
    optax.adafactor has none of its own.
  - lamb, lion, novograd: optax's formulas coincide with ours (eps_root = 0;
    lion's sign is taken of b1 m + (1-b1) g and its momentum decays with b2;
    novograd starts v at ||g||^2 and m at the first normalised gradient).
"""

import json
import math
import os
import sys
from pathlib import Path

import numpy as np


# ---------------------------------------------------------------------------
# Schedules (mlx.optimizers.schedulers; the warm-up join is mlx-lm's
# tuner/utils.py build_schedule). All are functions of `step`, the number of
# updates already done; the optimizer reads the rate at that step.


def base_schedule(name, p):
    if name == "constant":
        return lambda s: p["value"]
    if name == "linear_schedule":
        return lambda s: p["init"] + min(s, p["steps"]) * (p["end"] - p["init"]) / p["steps"]
    if name == "cosine_decay":
        return lambda s: p["end"] + 0.5 * (1 + math.cos(math.pi * min(s, p["steps"]) / p["steps"])) * (
            p["init"] - p["end"]
        )
    if name == "exponential_decay":
        return lambda s: p["init"] * p["rate"] ** s
    if name == "step_decay":
        return lambda s: p["init"] * p["rate"] ** (s // p["step_size"])
    if name == "polynomial_decay":
        return lambda s: p["end"] + (p["init"] - p["end"]) * (1 - min(s, p["steps"]) / p["steps"]) ** p["power"]
    raise ValueError(f"unknown schedule {name!r}")


def schedule(spec):
    inner = base_schedule(spec["name"], spec.get("params", {}))
    warmup = spec.get("warmup", 0)
    if warmup == 0:
        return inner
    # mlx-lm: linear from warmup_init to the schedule's first value over
    # `warmup` steps, joined with the schedule at warmup + 1.
    start, target = spec.get("warmup_init", 0.0), inner(0)

    def joined(s):
        if s < warmup + 1:
            return start + min(s, warmup) * (target - start) / warmup
        return inner(s - warmup - 1)

    return joined


# ---------------------------------------------------------------------------
# NumPy optimizers. Each has init(w) -> {slot: array} and
# step(w, g, state, lr, t) -> w, updating `state` in place; t = step + 1.
# Slot names are ours (optimizer.h), so the C++ test can pair them with
# Optimizer::state_names.


def rms(x):
    return math.sqrt(np.mean(np.square(x)))


class AdamW:
    """Loshchilov & Hutter 2019 with MLX's conventions: decoupled decay first,
    w <- w (1 - lr wd); no bias correction unless asked (MLX's default); with
    it, MLX divides lr by 1-b1^t and sqrt(v) by sqrt(1-b2^t), which is the
    paper's m_hat / (sqrt(v_hat) + eps) written differently."""

    def __init__(self, h):
        self.b1, self.b2, self.eps = h["beta1"], h["beta2"], h["eps"]
        self.wd, self.bias_correction = h["weight_decay"], h["bias_correction"]

    def init(self, w):
        return {"m": np.zeros_like(w), "v": np.zeros_like(w)}

    def step(self, w, g, s, lr, t):
        w = w * (1 - lr * self.wd)
        s["m"] = self.b1 * s["m"] + (1 - self.b1) * g
        s["v"] = self.b2 * s["v"] + (1 - self.b2) * g * g
        if self.bias_correction:
            m_hat = s["m"] / (1 - self.b1**t)
            v_hat = s["v"] / (1 - self.b2**t)
            return w - lr * m_hat / (np.sqrt(v_hat) + self.eps)
        return w - lr * s["m"] / (np.sqrt(s["v"]) + self.eps)


class Sgd:
    """Polyak momentum, Sutskever et al.'s Nesterov form, in MLX's formula:
    L2 decay added to g; v = mu v + (1 - tau) g; u = g + mu v (Nesterov) or v.
    Without momentum the velocity slot stays zero."""

    def __init__(self, h):
        self.mu, self.wd = h["momentum"], h["weight_decay"]
        self.tau, self.nesterov = h["dampening"], h["nesterov"]

    def init(self, w):
        return {"v": np.zeros_like(w)}

    def step(self, w, g, s, lr, t):
        g = g + self.wd * w
        if self.mu == 0:
            return w - lr * g
        s["v"] = self.mu * s["v"] + (1 - self.tau) * g
        u = g + self.mu * s["v"] if self.nesterov else s["v"]
        return w - lr * u


class Lion:
    """Chen et al. 2023, Algorithm 2: c = b1 m + (1-b1) g; w <- w - lr
    (sign(c) + wd w); m = b2 m + (1-b2) g. MLX writes the decay as
    w (1 - lr wd), the same value."""

    def __init__(self, h):
        self.b1, self.b2, self.wd = h["beta1"], h["beta2"], h["weight_decay"]

    def init(self, w):
        return {"m": np.zeros_like(w)}

    def step(self, w, g, s, lr, t):
        c = self.b1 * s["m"] + (1 - self.b1) * g
        s["m"] = self.b2 * s["m"] + (1 - self.b2) * g
        return w - lr * (np.sign(c) + self.wd * w)


class Adafactor:
    """Shazeer & Stern 2018, Algorithms 4 and 5 with update clipping (section
    6) and relative step (section 8), in MLX's variant: beta2_t = 1 -
    t^decay_rate; eps1 is added to g^2 before averaging; tensors of ndim >= 2
    factor their last two axes (leading axes are a batch); the first moment
    (beta1 > 0) averages the scaled update; decay is w <- w - wd alpha_t w."""

    def __init__(self, h):
        self.h = h

    def init(self, w):
        s = {"v_row": np.zeros(()), "v_col": np.zeros(()), "v": np.zeros(())}
        if w.ndim >= 2:
            s["v_row"] = np.zeros(w.shape[:-1])
            s["v_col"] = np.zeros(w.shape[:-2] + w.shape[-1:])
        else:
            s["v"] = np.zeros_like(w)
        if self.h["beta1"] > 0:
            s["m"] = np.zeros_like(w)
        return s

    def rho(self, lr, t):
        h = self.h
        if not h["relative_step"]:
            return lr
        start = 1e-6 * t if h["warmup_init"] else 1e-2
        return min(start, 1 / math.sqrt(t))

    def step(self, w, g, s, lr, t):
        h = self.h
        alpha = self.rho(lr, t)
        if h["scale_parameter"]:
            alpha *= max(h["eps2"], rms(w))
        beta2 = 1 - t ** h["decay_rate"]
        g2 = g * g + h["eps1"]
        if w.ndim >= 2:
            s["v_row"] = beta2 * s["v_row"] + (1 - beta2) * g2.mean(axis=-1)
            s["v_col"] = beta2 * s["v_col"] + (1 - beta2) * g2.mean(axis=-2)
            # V ~ R C / mean(R): the rank-1 estimate of the second moment.
            r = s["v_row"] / s["v_row"].mean(axis=-1, keepdims=True)
            v_hat = r[..., :, None] * s["v_col"][..., None, :]
        else:
            s["v"] = beta2 * s["v"] + (1 - beta2) * g2
            v_hat = s["v"]
        u = g / np.sqrt(v_hat)
        u = u / max(1.0, rms(u) / h["clip_threshold"])
        u = alpha * u
        if h["beta1"] > 0:
            s["m"] = h["beta1"] * s["m"] + (1 - h["beta1"]) * u
            u = s["m"]
        return w - h["weight_decay"] * alpha * w - u


class Lamb:
    """You et al. 2020, Algorithm 2 (per tensor, phi = identity): Adam's
    bias-corrected direction with eps added to sqrt(v_hat), plus wd w; the
    trust ratio ||w|| / ||u|| is 1 when either norm is 0."""

    def __init__(self, h):
        self.b1, self.b2, self.eps = h["beta1"], h["beta2"], h["eps"]
        self.wd = h["weight_decay"]

    def init(self, w):
        return {"m": np.zeros_like(w), "v": np.zeros_like(w)}

    def step(self, w, g, s, lr, t):
        s["m"] = self.b1 * s["m"] + (1 - self.b1) * g
        s["v"] = self.b2 * s["v"] + (1 - self.b2) * g * g
        m_hat = s["m"] / (1 - self.b1**t)
        v_hat = s["v"] / (1 - self.b2**t)
        u = m_hat / (np.sqrt(v_hat) + self.eps) + self.wd * w
        w_norm, u_norm = np.linalg.norm(w), np.linalg.norm(u)
        trust = w_norm / u_norm if w_norm > 0 and u_norm > 0 else 1.0
        return w - lr * trust * u


class NovoGrad:
    """Ginsburg et al. 2019, Algorithm 1: v is one scalar per tensor,
    ||g||^2 at the first step, then b2 v + (1-b2) ||g||^2; m = b1 m +
    (g / (sqrt(v) + eps) + wd w) (no (1 - b1) factor, as in the paper)."""

    def __init__(self, h):
        self.b1, self.b2, self.eps = h["beta1"], h["beta2"], h["eps"]
        self.wd = h["weight_decay"]

    def init(self, w):
        return {"m": np.zeros_like(w), "v": np.zeros(())}

    def step(self, w, g, s, lr, t):
        g_sq = float(np.sum(g * g))
        s["v"] = np.asarray(g_sq if t == 1 else self.b2 * s["v"] + (1 - self.b2) * g_sq)
        s["m"] = self.b1 * s["m"] + (g / (np.sqrt(s["v"]) + self.eps) + self.wd * w)
        return w - lr * s["m"]


OPTIMIZERS = {
    "adamw": AdamW,
    "sgd": Sgd,
    "lion": Lion,
    "adafactor": Adafactor,
    "lamb": Lamb,
    "novograd": NovoGrad,
}


def run_numpy(case, params, grads, lrs):
    opt = OPTIMIZERS[case["optimizer"]](case["hyper"])
    states = [opt.init(w) for w in params]
    ws = list(params)
    for k, step_grads in enumerate(grads):
        for i, g in enumerate(step_grads):
            ws[i] = opt.step(ws[i], g, states[i], lrs[k], k + 1)
    return {
        "params": [w.ravel().tolist() for w in ws],
        "state": [{slot: np.ravel(a).tolist() for slot, a in s.items()} for s in states],
    }


# ---------------------------------------------------------------------------
# optax, configured to our variants (see the module docstring).


class OptaxMismatch(Exception):
    """optax cannot be configured to our variant for this case."""


def optax_transform(case, lr_fn):
    import jax.numpy as jnp
    import optax

    name, h = case["optimizer"], case["hyper"]
    if name == "lion":
        return optax.lion(lr_fn, b1=h["beta1"], b2=h["beta2"], weight_decay=h["weight_decay"])
    if name == "lamb":
        return optax.lamb(lr_fn, b1=h["beta1"], b2=h["beta2"], eps=h["eps"], eps_root=0.0, weight_decay=h["weight_decay"])
    if name == "novograd":
        return optax.novograd(
            lr_fn, b1=h["beta1"], b2=h["beta2"], eps=h["eps"], eps_root=0.0, weight_decay=h["weight_decay"]
        )
    if name == "adafactor":
        problems = []
        if h["weight_decay"] != 0:
            problems.append("optax adds weight_decay_rate * w unscaled by alpha_t")
        if h["eps2"] != 1e-3:
            problems.append("optax floors RMS(w) at 1e-3, not eps2")
        if problems:
            raise OptaxMismatch("optax.adafactor cannot be configured to ours: " + "; ".join(problems))
        rate = lr_fn
        if h["relative_step"]:
            # optax.adafactor has no relative step: give it as a schedule.
            warm = h["warmup_init"]

            def rate(count):
                t = count + 1.0
                return jnp.minimum(1e-6 * t if warm else 1e-2, 1 / jnp.sqrt(t))

        return optax.adafactor(
            learning_rate=rate,
            min_dim_size_to_factor=1,
            decay_rate=-h["decay_rate"],
            decay_offset=0,
            multiply_by_parameter_scale=h["scale_parameter"],
            clipping_threshold=h["clip_threshold"],
            momentum=h["beta1"] if h["beta1"] > 0 else None,
            dtype_momentum=np.float64,
            weight_decay_rate=None,
            eps=h["eps1"],
            factored=True,
        )
    raise ValueError(f"case {case['name']!r}: no optax path for {name!r}")


def check_optax_factoring(case, params):
    if case["optimizer"] != "adafactor":
        return
    for w in params:
        # optax's pick: the last two of a stable argsort of the sizes.
        if w.ndim >= 2 and sorted(np.argsort(w.shape, kind="stable")[-2:]) != [w.ndim - 2, w.ndim - 1]:
                raise OptaxMismatch(f"shape {list(w.shape)}: optax factors the two largest axes, ours the last two")


def run_optax(case, params, grads, lrs):
    os.environ.setdefault("JAX_PLATFORMS", "cpu")  # no accelerator probing
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    check_optax_factoring(case, params)
    table = jnp.asarray(lrs, dtype=jnp.float64)
    tx = optax_transform(case, lambda count: table[count])
    ws = [jnp.asarray(w, dtype=jnp.float64) for w in params]
    state = tx.init(ws)
    # One compiled update per case: far cheaper than compiling each eager op.
    update = jax.jit(tx.update)
    for step_grads in grads:
        gs = [jnp.asarray(g, dtype=jnp.float64) for g in step_grads]
        updates, state = update(gs, state, ws)
        ws = [w + u for w, u in zip(ws, updates)]
    return {"params": [np.asarray(w).ravel().tolist() for w in ws]}


def main() -> None:
    cases = json.loads(Path(sys.argv[1]).read_text())["cases"]
    out = []
    for case in cases:
        params = [np.asarray(p["values"], dtype=np.float64).reshape(p["shape"]) for p in case["params"]]
        grads = [
            [np.asarray(g, dtype=np.float64).reshape(w.shape) for g, w in zip(step, params)] for step in case["grads"]
        ]
        lr_fn = schedule(case["schedule"])
        lrs = [float(lr_fn(k)) for k in range(len(grads))]
        result = {"name": case["name"], "lr": lrs, "numpy": run_numpy(case, params, grads, lrs)}
        if case.get("optax"):
            try:
                result["optax"] = run_optax(case, params, grads, lrs)
            except OptaxMismatch as e:
                result["optax"] = {"refused": str(e)}
        out.append(result)
    Path(sys.argv[2]).write_text(json.dumps({"cases": out}))


if __name__ == "__main__":
    main()

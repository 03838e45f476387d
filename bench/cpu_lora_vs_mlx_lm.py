#!/usr/bin/env python3
"""CPU training speed and peak memory: `mlxt train` beside `mlx_lm lora`.

For each preset (llama arch), one model folder is written with `mlxt
init-model` and both programs train it from one shared YAML config (mlx-lm's
keys, which `mlxt train` reads as they are) on datasets/quickstart. mlx-lm
runs twice: as the mlx[cpu] wheel ships it (reference netlib BLAS) and with
OpenBLAS preloaded, the BLAS that `mlxt` links; the second is the
like-for-like comparison. Every configuration is repeated and the runs are
interleaved, so slow spells of this shared machine hit all programs alike.

Timing: both programs report every `steps_per_report` steps. The first
window holds graph compilation and warm-up and is dropped; a run's figure is
the median seconds per step over its other windows, and a configuration's the
median over its repeats. The ratio (mlx-lm s/step / ours) is taken from
seconds per step, so it does not depend on how each program counts tokens.

With --smollm2, the model is the real SmolLM2-135M-Instruct instead: the
cached GGUF (scripts/fetch-smollm2) converted once by `mlxt convert
--from-gguf` into an MLX-quantized folder (QLoRA over the 4-bit base, both
programs) and a dequantized fp32 folder (LoRA), trained on text rows made
from datasets/smollm2-json (plain text, so both programs encode the same
tokens whatever chat template support they have).

Run from the repository root, after building build/mlxt:
    python3 bench/cpu_lora_vs_mlx_lm.py [--smollm2]
Writes bench/results/<date>-cpu-lora-vs-mlx-lm.md (with --smollm2:
<date>-cpu-smollm2-lora-vs-mlx-lm.md) and the raw per-run JSON beside the
scratch files in build/bench-cpu-lora/.
"""

import argparse
import datetime
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MLXT = ROOT / "build" / "mlxt"
VENV_PYTHON = ROOT / ".deps" / "venv" / "bin" / "python"
PEER = ROOT / "bench" / "peers" / "mlx_lm_lora_timed.py"
DATA = "datasets/quickstart"
OPENBLAS = "/usr/lib/x86_64-linux-gnu/libopenblas.so.0"

STEPS_PER_REPORT = 10
MODEL_DIRS = {}  # preset -> its model folder
BATCH_SIZE = 8


def shared_config(model_dir, fine_tune_type, iters, data=DATA):
    """The settings both programs train with (mlx-lm key names)."""
    return {
        "model": str(model_dir),
        "data": str(data),
        "train": True,
        "fine_tune_type": fine_tune_type,
        "num_layers": -1,  # every block
        "lora_parameters": {"rank": 8, "scale": 20.0, "dropout": 0.0},
        "mask_prompt": False,
        "optimizer": "adam",  # mlx-lm's default
        "learning_rate": 1e-4,
        "batch_size": BATCH_SIZE,
        "max_seq_length": 128,
        "iters": iters,
        "steps_per_report": STEPS_PER_REPORT,
        # Validation only before step 1 and after the last step (both
        # programs always evaluate there), on one batch, outside the timing.
        "steps_per_eval": iters + 1000,
        "val_batches": 1,
        # Save only at the end (mlx-lm cannot take 0 here).
        "save_every": iters + 1000,
        "seed": 0,
    }


def write_yaml(config, path):
    # JSON is valid YAML 1.2, and both programs read the file as YAML.
    path.write_text(json.dumps(config, indent=2) + "\n")


def run(command, env=None, log=None):
    """Runs a command, its output to `log`; raises with the log's tail."""
    shown = " ".join(shlex.quote(str(c)) for c in command)
    if env and "LD_PRELOAD" in env:
        shown = f"LD_PRELOAD={env['LD_PRELOAD']} " + shown
    print("  $", shown, flush=True)
    with open(log, "w") as out:
        result = subprocess.run(
            [str(c) for c in command],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    if result.returncode != 0:
        tail = Path(log).read_text()[-3000:]
        raise RuntimeError(f"exit {result.returncode}: {shown}\n{tail}")
    return shown


def measure_ours(config_path, work, tag):
    run_id = f"ours-{tag}"
    load_before = os.getloadavg()[0]
    shown = run(
        [
            MLXT, "train", "--config", config_path,
            "--runs_dir", work / "runs", "--run_id", run_id,
            "--adapter_path", work / "adapters" / run_id,
        ],
        log=work / f"{run_id}.log",
    )
    load = [load_before, os.getloadavg()[0]]
    records = [
        json.loads(line)
        for line in (work / "runs" / run_id / "metrics.jsonl").open()
    ]
    start = next(r for r in records if r["event"] == "start")
    train = [r for r in records if r["event"] == "train"]
    windows = []
    previous_step = 0
    for r in train:
        steps = r["step"] - previous_step
        previous_step = r["step"]
        # seconds_per_step: wall seconds of the window / its steps.
        seconds = r["seconds_per_step"] * steps
        windows.append(
            {"steps": steps, "seconds": seconds, "tokens": r["trained_tokens"]}
        )
    return summarise(
        windows[1:],
        peak_gb=max(r["peak_memory_gb"] for r in train),
        extra={
            "blas": start["blas"],
            "trainable_parameters": start["trainable_parameters"],
            "load_avg": load,
            "command": shown,
        },
    )


def measure_mlx_lm(config_path, work, tag, preload):
    name = f"mlx-lm-{'openblas' if preload else 'netlib'}-{tag}"
    env = dict(os.environ)
    if preload:
        env["LD_PRELOAD"] = OPENBLAS
    out = work / f"{name}.json"
    load_before = os.getloadavg()[0]
    shown = run(
        [
            VENV_PYTHON, PEER, out, "--config", config_path,
            "--adapter-path", work / "adapters" / name,
        ],
        env=env,
        log=work / f"{name}.log",
    )
    load = [load_before, os.getloadavg()[0]]
    data = json.loads(out.read_text())
    windows = []
    previous_step = 0
    previous_total = 0
    for r in data["train_reports"]:
        steps = r["iteration"] - previous_step
        previous_step = r["iteration"]
        # mlx-lm counts one position past each row's end (a padding target)
        # as a trained token; take it off so tokens mean the same as ours.
        tokens = r["trained_tokens"] - previous_total - BATCH_SIZE * steps
        previous_total = r["trained_tokens"]
        windows.append(
            {
                # it/s = steps_per_report / summed step times of the window
                "seconds": STEPS_PER_REPORT / r["iterations_per_second"],
                "steps": steps,
                "tokens": tokens,
                "reported_tokens_per_sec": r["tokens_per_second"],
            }
        )
    shapes = data["batch_shapes"]
    return summarise(
        windows[1:],
        peak_gb=max(r["peak_memory"] for r in data["train_reports"]),
        extra={
            "blas": data["blas"],
            "mlx": data["mlx"],
            "mlx_lm": data["mlx_lm"],
            "trainable_parameters": data["trainable_parameters"],
            "reported_tokens_per_sec": statistics.median(
                w["reported_tokens_per_sec"] for w in windows[1:]
            ),
            "mean_padded_inputs": statistics.mean(s[1] - 1 for s in shapes),
            # Ours pads (longest - 1) up to a multiple of 32, mlx-lm pads
            # longest up to one: the inputs differ only when longest % 32 == 1.
            "batches_padded_differently": sum(s[2] % 32 == 1 for s in shapes),
            "load_and_first_eval_peak_gb": data["load_and_first_eval_peak_gb"],
            "load_avg": load,
            "command": shown,
        },
    )


def summarise(windows, peak_gb, extra):
    per_step = [w["seconds"] / w["steps"] for w in windows]
    seconds = sum(w["seconds"] for w in windows)
    steps = sum(w["steps"] for w in windows)
    tokens = sum(w["tokens"] for w in windows)
    return {
        "s_per_step": statistics.median(per_step),
        "window_s_per_step": per_step,
        "tokens_per_sec": tokens / seconds,  # target tokens, padding excluded
        "tokens_per_step": tokens / steps,
        "peak_gb": peak_gb,
        **extra,
    }


def machine():
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    return f"{os.cpu_count()} cores, {cpu}, {mem_kb / 2**20:.1f} GiB RAM, {platform.platform()}"


def ours_mlx():
    """Which MLX build/mlxt links, and whether it is the peer's libmlx."""
    ours = ROOT / ".deps" / "mlx" / "mlx" / "lib" / "libmlx.so"
    peer = next((ROOT / ".deps" / "venv" / "lib").glob("python*/site-packages/mlx/lib/libmlx.so"))
    versions = [p.name for p in (ROOT / ".deps" / "mlx").glob("*.dist-info")]
    same = ours.read_bytes() == peer.read_bytes()
    return (
        f"{', '.join(versions)} from .deps/mlx; its libmlx.so is "
        f"{'byte-identical to' if same else 'DIFFERENT from'} the venv's"
    )


def model_vocab(results):
    """The vocabulary size of each preset's model (the BPE may stop early)."""
    sizes = {}
    for preset, _ in results:
        config = json.loads(Path(MODEL_DIRS[preset], "config.json").read_text())
        sizes[preset] = config["vocab_size"]
    return ", ".join(f"{p} {v}" for p, v in sizes.items())


def peer_version(results, key):
    runs = next(iter(results.values()))
    return runs["mlx-lm openblas"][0][key]


def median_of(runs, key):
    return statistics.median(r[key] for r in runs)


def spread(runs):
    values = [r["s_per_step"] for r in runs]
    return f"{min(values):.4f}–{max(values):.4f}"


def smollm2_models(work, labels):
    """Converts the cached SmolLM2 GGUF into the two benchmarked folders and
    writes the text dataset; returns {label: folder}, the data folder and the
    commands."""
    cache = Path(os.environ.get("MLXT_HOME") or Path(
        os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "mlxt")
    gguf = cache / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"
    if not gguf.exists():
        sys.exit(f"{gguf} not found: run scripts/fetch-smollm2 first")
    commands = []
    all_flags = {"smollm2-q4": ["--dtype", "f32"],
                 "smollm2-f32": ["--dequantize", "--dtype", "f32"]}
    folders = {label: all_flags[label] for label in labels}
    for label, flags in folders.items():
        out = work / label
        if not out.exists():
            commands.append(run([MLXT, "convert", "--from-gguf", gguf,
                                 "--out", out, *flags],
                                log=work / f"convert-{label}.log"))
        MODEL_DIRS[label] = out
    data = work / "smollm2-text"
    data.mkdir(exist_ok=True)
    for split in ("train", "valid"):
        rows = [json.loads(line) for line in
                (ROOT / "datasets" / "smollm2-json" / f"{split}.jsonl").open()]
        (data / f"{split}.jsonl").write_text("".join(
            json.dumps({"text": r["prompt"] + "\n" + r["completion"]}) + "\n"
            for r in rows))
    return list(folders), data, commands


def main():
    global STEPS_PER_REPORT
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--presets", nargs="+", default=["tiny", "small"])
    parser.add_argument("--iters", type=int, default=60)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--full", action="store_true",
        help="also a full fine-tuning row for the small preset",
    )
    parser.add_argument(
        "--netlib-iters", type=int, default=None,
        help="iterations for the (slow) wheel-BLAS mlx-lm runs; default --iters",
    )
    parser.add_argument(
        "--smollm2", action="store_true",
        help="benchmark SmolLM2-135M-Instruct (QLoRA and dequantized LoRA) "
        "instead of the random presets",
    )
    parser.add_argument(
        "--smollm2-models", nargs="+", default=["smollm2-q4", "smollm2-f32"],
        help="with --smollm2: which converted folders to benchmark",
    )
    parser.add_argument(
        "--no-netlib", action="store_true",
        help="skip the (slow) mlx-lm runs with the wheel's own BLAS",
    )
    parser.add_argument(
        "--steps-per-report", type=int, default=STEPS_PER_REPORT,
        help="steps per timing window (the first window is dropped)",
    )
    parser.add_argument("--work", default=str(ROOT / "build" / "bench-cpu-lora"))
    parser.add_argument("--results", default=str(ROOT / "bench" / "results"))
    args = parser.parse_args()
    STEPS_PER_REPORT = args.steps_per_report
    if not MLXT.exists():
        sys.exit(f"{MLXT} not found: build it first (see bench/README.md)")
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    began = time.time()

    data = DATA
    commands = []
    if args.smollm2:
        args.presets, data, commands = smollm2_models(work, args.smollm2_models)
    rows = [(p, "lora") for p in args.presets]
    if args.full:
        rows.append(("small", "full"))
    results = {}
    for preset in sorted({p for p, _ in rows}, key=args.presets.index):
        if args.smollm2:
            continue
        model_dir = work / f"model-{preset}"
        MODEL_DIRS[preset] = model_dir
        commands.append(run(
            [
                MLXT, "init-model", "--arch", "llama", "--preset", preset,
                "--out", model_dir, "--vocab-size", 1024,
                "--tokenizer-corpus", f"{DATA}/train.jsonl",
            ],
            log=work / f"init-{preset}.log",
        ))
    for preset, mode in rows:
        model_dir = MODEL_DIRS[preset]
        config = work / f"{preset}-{mode}.yaml"
        write_yaml(shared_config(model_dir, mode, args.iters, data), config)
        netlib_config = config
        if args.netlib_iters and args.netlib_iters != args.iters:
            netlib_config = work / f"{preset}-{mode}-netlib.yaml"
            write_yaml(
                shared_config(model_dir, mode, args.netlib_iters, data),
                netlib_config,
            )
        runs = {"ours": [], "mlx-lm openblas": []}
        if not args.no_netlib:
            runs["mlx-lm netlib"] = []
        for repeat in range(args.repeats):
            tag = f"{preset}-{mode}-{repeat}"
            print(f"{preset} {mode}, repeat {repeat + 1}/{args.repeats}")
            runs["ours"].append(measure_ours(config, work, tag))
            runs["mlx-lm openblas"].append(
                measure_mlx_lm(config, work, tag, preload=True)
            )
            if args.no_netlib:
                continue
            runs["mlx-lm netlib"].append(
                measure_mlx_lm(netlib_config, work, tag, preload=False)
            )
        results[(preset, mode)] = runs
        (work / f"{preset}-{mode}.json").write_text(json.dumps(runs, indent=1))
        for run_list in runs.values():
            commands.append(run_list[0]["command"])

    report = render(results, args, commands, time.time() - began)
    print(report)
    out = Path(args.results)
    out.mkdir(parents=True, exist_ok=True)
    name = "smollm2-cpu-lora" if args.smollm2 else "cpu-lora-vs-mlx-lm"
    path = out / f"{datetime.date.today().isoformat()}-{name}.md"
    path.write_text(report)
    print(f"wrote {path}")


def render(results, args, commands, elapsed):
    lines = [
        f"# CPU training: mlxt train vs mlx_lm lora ({datetime.date.today().isoformat()})",
        "",
        f"- Machine: {machine()}",
        f"- Versions: mlx {peer_version(results, 'mlx')}, mlx-lm "
        f"{peer_version(results, 'mlx_lm')} (as imported by the peer runs, "
        ".deps/venv); mlxt at commit "
        + subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
            capture_output=True, text=True,
        ).stdout.strip(),
        f"- mlxt links {ours_mlx()}",
        (
            "- Settings (one shared YAML): SmolLM2-135M-Instruct (Q4_1 GGUF) "
            "converted by mlxt convert --from-gguf: smollm2-q4 = MLX-quantized "
            "(4-bit linears, 8-bit tied embedding, group 32, fp32 scales; "
            "QLoRA), smollm2-f32 = dequantized fp32; text rows from "
            "datasets/smollm2-json (prompt + newline + completion), "
            if args.smollm2 else
            f"- Settings (one shared YAML): llama arch, init-model --vocab-size 1024 "
            f"(vocabulary learnt from the quickstart corpus: {model_vocab(results)}), "
            f"datasets/quickstart (chat rows), "
        ) +
        f"mask_prompt false, num_layers -1, LoRA rank 8 scale 20 "
        f"dropout 0, batch 8, max_seq_length 128, adam lr 1e-4, "
        f"{args.iters} iters (wheel-BLAS mlx-lm: {args.netlib_iters or args.iters}), "
        f"report every {STEPS_PER_REPORT}, first window dropped, "
        f"{args.repeats} interleaved repeats; benchmark wall time {elapsed / 60:.1f} min.",
        "- s/step: median over a run's measured windows, then median over repeats "
        "(range over repeats in brackets). Ratio = mlx-lm s/step ÷ ours. "
        "tokens/s: target tokens (padding excluded) over the measured windows; "
        "mlx-lm's own figure, which counts one padding target per row, in brackets. "
        "Peak: MLX get_peak_memory over the training steps (reset after the "
        "step-0 validation in both).",
        "",
        "| preset | mode | program | BLAS | s/step | ratio | tokens/s | peak MB | trainable params |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for (preset, mode), runs in results.items():
        ours = median_of(runs["ours"], "s_per_step")
        for program, run_list in runs.items():
            s = median_of(run_list, "s_per_step")
            blas = Path(run_list[0]["blas"]).name
            ratio = "1" if program == "ours" else f"{s / ours:.2f}"
            tokens = f"{median_of(run_list, 'tokens_per_sec'):,.0f}"
            if program != "ours":
                tokens += f" ({median_of(run_list, 'reported_tokens_per_sec'):,.0f})"
            lines.append(
                f"| {preset} | {mode} | {program} | {blas} | {s:.4f} "
                f"({spread(run_list)}) | {ratio} | {tokens} | "
                f"{1000 * median_of(run_list, 'peak_gb'):.1f} | "
                f"{run_list[0]['trainable_parameters']:,} |"
            )
    lines += ["", "Paired rounds (ours then mlx-lm in each round, so the machine's "
              "load hits both alike; ratio = mlx-lm s/step ÷ ours s/step of the "
              "same round; 1-min load average at the start and end of each run):",
              ""]
    for (preset, mode), runs in results.items():
        for program in runs:
            if program == "ours":
                continue
            pairs = list(zip(runs["ours"], runs[program]))
            ratios = [peer["s_per_step"] / ours["s_per_step"]
                      for ours, peer in pairs]
            for i, (ours, peer) in enumerate(pairs):
                lines.append(
                    f"- {preset} {mode} round {i + 1}: ours "
                    f"{ours['s_per_step']:.3f} s/step (load "
                    f"{ours['load_avg'][0]:.1f}→{ours['load_avg'][1]:.1f}), "
                    f"{program} {peer['s_per_step']:.3f} s/step (load "
                    f"{peer['load_avg'][0]:.1f}→{peer['load_avg'][1]:.1f}): "
                    f"ratio {ratios[i]:.2f}")
            loads = [x for r in runs["ours"] + runs[program] for x in r["load_avg"]]
            lines.append(
                f"- {preset} {mode} vs {program}: median paired ratio "
                f"**{statistics.median(ratios):.2f}** (range "
                f"{min(ratios):.2f}–{max(ratios):.2f} over {len(ratios)} "
                f"rounds); load average {min(loads):.1f}–{max(loads):.1f} "
                f"on {os.cpu_count()} cores")
    lines += ["", "Same work check (from the runs):", ""]
    for (preset, mode), runs in results.items():
        peer = runs["mlx-lm openblas"]
        lines.append(
            f"- {preset} {mode}: target tokens/step ours "
            f"{median_of(runs['ours'], 'tokens_per_step'):.1f}, mlx-lm "
            f"{median_of(peer, 'tokens_per_step'):.1f}; mlx-lm mean padded "
            f"input length {peer[0]['mean_padded_inputs']:.1f}, batches our "
            f"rule would pad differently: {peer[0]['batches_padded_differently']}; "
            f"mlx-lm peak during load + first eval "
            f"{1000 * peer[0]['load_and_first_eval_peak_gb']:.1f} MB."
        )
    lines += ["", "Commands (first repeat; the YAML is written by the script):", "", "```"]
    lines += commands
    lines += ["```", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()

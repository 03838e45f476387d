"""Run `mlx_lm lora` unchanged and write its per-report numbers as JSON.

Usage: python bench/peers/mlx_lm_lora_timed.py OUT.json --config X.yaml [...]

Everything after OUT.json goes to mlx-lm's own argument parser, so the run is
the one `python -m mlx_lm lora ...` makes. The only additions are
measurement:

* a TrainingCallback that keeps every train report (iterations/s, tokens/s,
  trained tokens, peak memory) instead of parsing the rich-formatted console;
* after the first validation (iteration 0, before step 1) the load-and-eval
  peak is stored and MLX's peak counter is reset, so "peak_memory" covers the
  training steps only, as mlx-train's metrics do (they reset at the same
  point);
* the padded shape of every training batch and the trainable parameter
  count, to check that both programs do the same work;
* which library serves cblas_sgemm (the wheel's reference BLAS or an
  LD_PRELOADed OpenBLAS).

mlx_lm.lora.run() builds its callback from `report_to` and ignores the one it
is given, so the callback goes in through get_reporting_callbacks.
"""

import ctypes
import json
import sys

import mlx.core as mx
import mlx_lm
import mlx_lm.lora as lora
from mlx_lm.tuner import trainer
from mlx_lm.tuner.callbacks import TrainingCallback
from mlx.utils import tree_flatten


class Recorder(TrainingCallback):
    def __init__(self):
        self.train_reports = []
        self.val_reports = []
        self.load_and_first_eval_peak = None

    def on_train_loss_report(self, info):
        self.train_reports.append(dict(info))

    def on_val_loss_report(self, info):
        self.val_reports.append(dict(info))
        if info["iteration"] == 0:
            self.load_and_first_eval_peak = mx.get_peak_memory() / 1e9
            mx.reset_peak_memory()


def blas_serving_sgemm():
    """The file that a global lookup of cblas_sgemm resolves to.

    libmlx is loaded RTLD_LOCAL by Python, so without a preload the symbol is
    not global and libmlx uses its bundled libblas (named from /proc/self/maps).
    """

    class DlInfo(ctypes.Structure):
        _fields_ = [
            ("dli_fname", ctypes.c_char_p),
            ("dli_fbase", ctypes.c_void_p),
            ("dli_sname", ctypes.c_char_p),
            ("dli_saddr", ctypes.c_void_p),
        ]

    process = ctypes.CDLL(None)
    try:
        address = ctypes.cast(process.cblas_sgemm, ctypes.c_void_p).value
        info = DlInfo()
        if process.dladdr(ctypes.c_void_p(address), ctypes.byref(info)):
            return info.dli_fname.decode()
    except AttributeError:
        pass
    # (numpy's own OpenBLAS is mapped too, under prefixed symbol names.)
    with open("/proc/self/maps") as maps:
        for line in maps:
            path = line.split()[-1]
            if "mlx_cpu.libs" in path and "libblas" in path:
                return path
    return "unknown"


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    out_path = sys.argv[1]
    sys.argv = ["mlx_lm.lora"] + sys.argv[2:]

    recorder = Recorder()
    lora.get_reporting_callbacks = lambda *args, **kwargs: recorder

    # Record each batch's padded shape (B, T+1) as mlx-lm builds it.
    shapes = []
    original_iterate = trainer.iterate_batches

    def recording_iterate(*args, **kwargs):
        training = kwargs.get("loop", False)  # evaluation does not loop
        for batch, lengths in original_iterate(*args, **kwargs):
            if training:
                # (B, padded length, longest row): the padded length is
                # 1 + a multiple of 32 covering the longest row.
                longest = int(lengths[:, 1].max().item())
                shapes.append([*batch.shape, longest])
            yield batch, lengths

    trainer.iterate_batches = recording_iterate
    # train() takes iterate_batches as a default argument bound at import.
    defaults = list(trainer.train.__defaults__)
    defaults[-2] = recording_iterate  # (args, loss, iterate_batches, callback)
    trainer.train.__defaults__ = tuple(defaults)

    # Count the trainable parameters the way mlx-lm's own summary does.
    trainable = {}
    original_summary = lora.print_trainable_parameters

    def recording_summary(model):
        trainable["count"] = sum(
            v.size for _, v in tree_flatten(model.trainable_parameters())
        )
        return original_summary(model)

    lora.print_trainable_parameters = recording_summary

    lora.main()

    with open(out_path, "w") as f:
        json.dump(
            {
                "mlx": mx.__version__,
                "mlx_lm": mlx_lm.__version__,
                "blas": blas_serving_sgemm(),
                "trainable_parameters": trainable.get("count"),
                "load_and_first_eval_peak_gb": recorder.load_and_first_eval_peak,
                "train_reports": recorder.train_reports,
                "val_reports": recorder.val_reports,
                "batch_shapes": shapes,
            },
            f,
            indent=1,
        )


if __name__ == "__main__":
    main()

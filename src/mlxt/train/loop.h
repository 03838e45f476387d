// The one training loop: every method (train/method.h) runs through it.
//
// It owns the run folder (resolved config.json, metrics.jsonl), the
// optimizer and learning-rate schedule a config names, the compiled step
// (train/step.h) and its cadence over micro-batches, the non-finite guard,
// reports with throughput and progress, validation at steps_per_eval, saves
// and checkpoints at save_every, exact resume, and stop requests. See
// docs/training.md for a walk through one step.
#pragma once

#include <filesystem>
#include <iosfwd>
#include <optional>
#include <string>

#include "mlxt/config/config.h"
#include "mlxt/train/method.h"

namespace mlxt::train {

struct RunResult {
  std::string run_dir;                  // runs/<id>
  std::string output_dir;               // adapters or the full model folder
  double first_train_loss = 0.0;        // mean loss of the first report window
  double last_train_loss = 0.0;         // mean loss of the last report window
  std::optional<double> first_val_loss; // before training
  std::optional<double> last_val_loss;  // after training
  std::optional<double> test_loss;
  bool stopped = false; // a stop request ended the run early (checkpointed)
};

struct ResumeFrom {
  //! The checkpoint folder to continue from; empty: a fresh run.
  std::optional<std::filesystem::path> checkpoint;
  //! Resume although the checkpoint's fingerprint (model, tokenizer, data,
  //! batch size, ...) differs; the run is then marked as not exact.
  bool force = false;
};

//! Trains `method` as `config` says, to completion or until
//! stop_requested() (then it saves the output and a checkpoint and returns
//! with `stopped`), writing progress to `out`. Checkpoints go to
//! runs/<id>/checkpoints every save_every steps and at the end. With
//! `resume`, the run continues from that checkpoint in the checkpoint's run
//! folder, bit-identically to an uninterrupted run. A failure is recorded in
//! metrics.jsonl as a "failed" event, then rethrown.
RunResult run_loop(const config::TrainConfig& config,
                   Method& method,
                   std::ostream& out,
                   const ResumeFrom& resume = {});

} // namespace mlxt::train

// Supervised fine-tuning (full or LoRA): wires the model, tokenizer, data,
// optimizer and compiled step into the training loop, reports metrics,
// evaluates, and saves the result.
#pragma once

#include <iosfwd>
#include <optional>
#include <string>

#include "mlxt/train/config.h"

namespace mlxt::train {

struct SftResult {
  std::string run_dir;                  // runs/<id>
  std::string output_dir;               // adapters or the full model folder
  double first_train_loss = 0.0;        // mean loss of the first report window
  double last_train_loss = 0.0;         // mean loss of the last report window
  std::optional<double> first_val_loss; // before training
  std::optional<double> last_val_loss;  // after training
  std::optional<double> test_loss;
};

//! Runs `config` to completion, writing progress to `out`.
SftResult run_sft(const TrainConfig& config, std::ostream& out);

} // namespace mlxt::train

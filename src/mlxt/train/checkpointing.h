// Training checkpoints: what the training loop saves so that a resumed run
// goes on exactly as the uninterrupted one would have (trainable weights,
// optimizer state, RNG key, loop position, the method's data cursor and
// extra state, resolved config), and the
// fingerprint that refuses a resume whose inputs changed.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mlxt/ckpt/checkpoint.h"
#include "mlxt/config/config.h"
#include "mlxt/train/step.h"

namespace mlxt::train {

//! Where the loop stands, besides the arrays of TrainState.
struct LoopPosition {
  long iteration = 0;   // loop steps done (applied or skipped)
  long batch_index = 0; // data cursor: micro-batches consumed
  int skipped_in_a_row = 0;
  std::optional<double> val_loss; // evaluated at this iteration, if it was
  bool exact = true; // false once a resume was forced past a changed input
  //! The rest of the method's data cursor (Method::data_cursor): an object
  //! whose keys are stored beside the loop's in state.json.
  nlohmann::json data_cursor = nlohmann::json::object();
  //! The method's extra state (Method::extra_state); null when none.
  nlohmann::json method_state;
};

//! The inputs an exact resume depends on: model, tokenizer and dataset
//! digests, batch size, sequence length, accumulation, seed, world size.
nlohmann::json run_fingerprint(const config::TrainConfig& config);

//! Throws Error(invalid_checkpoint) naming the first key of `saved` whose
//! value differs in `current`, unless `force`. Returns whether they differ.
bool check_fingerprint(const nlohmann::json& saved,
                       const nlohmann::json& current,
                       bool force);

struct CheckpointNames {
  std::vector<std::string> trainable; // TrainState::trainable order
  std::vector<std::string> optimizer; // TrainState::optimizer_state order
};

//! A checkpoint of the state after `position.iteration` steps (no pending
//! gradient accumulation).
ckpt::Checkpoint make_training_checkpoint(const CheckpointNames& names,
                                          const TrainState& state,
                                          const LoopPosition& position,
                                          const nlohmann::json& config,
                                          const nlohmann::json& fingerprint);

//! Restores `state` and `position` from `checkpoint`; throws
//! Error(invalid_checkpoint) naming the tensor when one is missing or of
//! another shape.
void restore_training_checkpoint(const ckpt::Checkpoint& checkpoint,
                                 const CheckpointNames& names,
                                 TrainState& state,
                                 LoopPosition& position);

//! The checkpoint a `--resume PATH` means: PATH itself when it is a
//! checkpoint folder, else the newest intact one in PATH/checkpoints (a run
//! folder). Damaged or incomplete ones are reported on `log` and skipped.
//! Error(not_found) when there is none.
std::filesystem::path
resolve_resume_checkpoint(const std::filesystem::path& path, std::ostream& log);

//! The committed checkpoint with the lowest recorded validation loss, if
//! any recorded one.
std::optional<std::filesystem::path>
best_checkpoint_by_val_loss(const std::filesystem::path& checkpoints_dir);

//! runs/<id>/checkpoints.
std::filesystem::path checkpoints_dir(const std::filesystem::path& run_dir);

} // namespace mlxt::train

// Batches for a score head: whole encoded sequences right-padded (no
// input/target shift, so the last token of each row, often the end-of-turn
// token, is read), with each row's last non-padding position.
#pragma once

#include <vector>

#include <mlx/mlx.h>

#include "mlxt/data/example.h"
#include "mlxt/data/preference_data.h"
#include "mlxt/train/method.h"

namespace mlxt::train {

struct ScoredRows {
  mx::array tokens; // (B, T) int32, padded with 0; T a multiple of pad_multiple
  mx::array last;   // (B,) int32: the last non-padding position of each row
  long token_count = 0; // non-padding tokens
};

//! `rows` (each at least one token) right-padded to a common length.
ScoredRows score_rows(const std::vector<const data::Example*>& rows,
                      int pad_multiple);

//! The reward loss's batch (reward_loss.h): chosen rows then rejected rows of
//! `pairs` in one padded (2B, T) array, their last positions (2B,), and the
//! pairs' margins (B,) float32. `tokens` counts both sides' tokens;
//! target_tokens the 2B scored positions.
MethodBatch reward_batch(const std::vector<const data::PreferencePair*>& pairs,
                         int pad_multiple);

} // namespace mlxt::train

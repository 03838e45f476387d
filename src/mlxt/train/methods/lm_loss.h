// The masked next-token loss as a training-step loss (train/step.h), and a
// data::Batch as the arrays that loss reads. SFT trains with it; other
// methods reuse it for their language-modelling terms (ORPO's SFT term, a
// distillation's hard-label loss).
#pragma once

#include <vector>

#include "mlxt/data/batching.h"
#include "mlxt/models/args.h"
#include "mlxt/nn/layers.h"
#include "mlxt/train/step.h"

namespace mlxt::train {

//! Arrays of one LM batch: inputs, targets, mask, and when `packed` the
//! attention mask and positions (data/packing.h).
std::vector<mx::array> lm_batch_arrays(const data::Batch& batch, bool packed);

//! How many arrays lm_batch_arrays gives.
int lm_batch_size(bool packed);

//! Summed masked cross-entropy of the model's next-token predictions
//! (chunked_lm_loss_sum through forward_hidden), counted over target tokens;
//! no metrics. `forward` gives dtype, LoRA scale/dropout, checkpointing;
//! `loss_chunk_rows` as chunked_lm_loss_sum takes it.
LossFn lm_loss(const models::ModelArgs& args,
               const nn::ForwardContext& forward,
               bool packed,
               int loss_chunk_rows = 0);

} // namespace mlxt::train

#include "mlxt/train/methods/lm_loss.h"

#include "mlxt/core/error.h"
#include "mlxt/models/transformer.h"
#include "mlxt/train/loss.h"

namespace mlxt::train {

std::vector<mx::array> lm_batch_arrays(const data::Batch& batch, bool packed) {
  std::vector<mx::array> arrays = {batch.inputs, batch.targets, batch.mask};
  if (packed) {
    if (!batch.attention_mask || !batch.positions) {
      fail(ErrorCode::internal, "a packed step got an unpacked batch");
    }
    arrays.insert(arrays.end(), {*batch.attention_mask, *batch.positions});
  }
  return arrays;
}

int lm_batch_size(bool packed) {
  return packed ? 5 : 3;
}

LossFn lm_loss(const models::ModelArgs& args,
               const nn::ForwardContext& forward,
               bool packed,
               int loss_chunk_rows) {
  return [args, forward, packed, loss_chunk_rows](
             const Params& weights,
             const std::vector<mx::array>& batch,
             const mx::array& dropout_key) {
    const mx::array& inputs = batch[0];
    const mx::array& targets = batch[1];
    const mx::array& mask = batch[2];
    nn::ForwardContext ctx = forward;
    ctx.dropout_key = dropout_key;
    if (packed) {
      ctx.attention_mask = batch[3];
      ctx.positions = batch[4];
    }
    mx::array hidden = models::forward_hidden(args, weights, inputs, ctx);
    return std::vector<mx::array>{
        chunked_lm_loss_sum(
            args, weights, hidden, targets, mask, ctx, loss_chunk_rows),
        mx::sum(mask)};
  };
}

} // namespace mlxt::train

#include "mlxt/train/loss.h"

#include "mlxt/models/transformer.h"

namespace mlxt::train {

mx::array masked_cross_entropy_sum(const mx::array& logits,
                                   const mx::array& targets,
                                   const mx::array& mask) {
  // The B x T x V logits stay in their own dtype: a float32 copy of them,
  // and its float32 gradient, were the largest buffers of a bf16 step
  // (2 x 4.2 GB at 4 x 2048 tokens and a 128k vocabulary). MLX's logsumexp
  // accumulates in float32 and its VJP is a precise softmax, so only the
  // per-token results are rounded to the logits' dtype; they are differenced
  // and summed in float32.
  mx::array target_logit = mx::squeeze(
      mx::take_along_axis(
          logits, mx::expand_dims(mx::stop_gradient(targets), -1), -1),
      -1);
  mx::array per_token =
      mx::subtract(mx::astype(mx::logsumexp(logits, -1), mx::float32),
                   mx::astype(target_logit, mx::float32));
  // Targets and mask are data, never differentiated (checkpointed chunks
  // pass them as inputs, and a VJP through indices does not exist).
  return mx::sum(mx::multiply(per_token, mx::stop_gradient(mask)));
}

mx::array chunked_lm_loss_sum(const models::ModelArgs& args,
                              const Params& weights,
                              const mx::array& hidden,
                              const mx::array& targets,
                              const mx::array& mask,
                              const nn::ForwardContext& ctx,
                              int chunk_rows) {
  const int D = hidden.shape(-1);
  const int rows = hidden.size() / D;
  if (chunk_rows <= 0 || chunk_rows >= rows) {
    nn::ForwardContext head_ctx = ctx;
    return masked_cross_entropy_sum(
        models::lm_head(args, weights, hidden, head_ctx), targets, mask);
  }
  // The head's weights go in as inputs: a checkpointed function gives
  // captured arrays no gradient (the tied embedding is trained in full FT).
  std::vector<std::string> head_names;
  for (const auto& [name, _] : weights) {
    if (name.starts_with("lm_head.") ||
        (args.tie_word_embeddings && name == "model.embed_tokens.weight")) {
      head_names.push_back(name);
    }
  }
  auto chunk_loss = mx::checkpoint(
      [&args, head_names, ctx](const std::vector<mx::array>& in) {
        Params head;
        for (size_t i = 0; i < head_names.size(); ++i) {
          head.insert_or_assign(head_names[i], in[3 + i]);
        }
        nn::ForwardContext head_ctx = ctx;
        mx::array logits = models::lm_head(args, head, in[0], head_ctx);
        return std::vector<mx::array>{
            masked_cross_entropy_sum(logits, in[1], in[2])};
      });
  mx::array h = mx::reshape(hidden, {rows, D});
  mx::array t = mx::reshape(targets, {rows});
  mx::array m = mx::reshape(mask, {rows});
  std::vector<mx::array> head_values;
  for (const auto& name : head_names) {
    head_values.push_back(param(weights, name));
  }
  mx::array total = mx::array(0.0f);
  for (int start = 0; start < rows; start += chunk_rows) {
    const int end = std::min(rows, start + chunk_rows);
    std::vector<mx::array> in = {mx::slice(h, {start, 0}, {end, D}),
                                 mx::slice(t, {start}, {end}),
                                 mx::slice(m, {start}, {end})};
    in.insert(in.end(), head_values.begin(), head_values.end());
    total = mx::add(total, chunk_loss(in)[0]);
  }
  return total;
}

mx::array log_sigmoid(const mx::array& x) {
  return mx::negative(mx::logaddexp(mx::zeros_like(x), mx::negative(x)));
}

} // namespace mlxt::train

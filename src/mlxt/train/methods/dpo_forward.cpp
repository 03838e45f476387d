#include "mlxt/train/methods/dpo_forward.h"

#include <algorithm>

#include "mlxt/models/transformer.h"
#include "mlxt/train/lora.h"
#include "mlxt/train/loss.h"

namespace mlxt::train {

Params reference_weights(const Params& weights, ReferenceFrom from) {
  Params reference;
  for (const auto& [name, value] : weights) {
    if (name.starts_with(kReferencePrefix)) {
      reference.insert_or_assign(name.substr(kReferencePrefix.size()), value);
    }
  }
  if (from == ReferenceFrom::without_adapters) {
    // The same base (layers find adapters by name, so leaving the trained
    // ones out switches them off); "ref." arrays already in take precedence.
    for (const auto& [name, value] : without_adapters(weights)) {
      if (!name.starts_with(kReferencePrefix)) {
        reference.insert({name, value});
      }
    }
  }
  return reference;
}

JoinedPairs join_pairs(const std::vector<mx::array>& batch) {
  auto joined = [&batch](int i) {
    const mx::array& c = batch[i];
    const mx::array& r = batch[3 + i];
    const int T = std::max(c.shape(1), r.shape(1));
    auto to_t = [T](const mx::array& a) {
      return mx::pad(a, {{0, 0}, {0, T - a.shape(1)}}, mx::array(0, a.dtype()));
    };
    return mx::concatenate({to_t(c), to_t(r)}, 0);
  };
  return {joined(0), joined(1), joined(2), batch[0].shape(0)};
}

mx::array joined_logprobs(const models::ModelArgs& args,
                          const Params& weights,
                          const JoinedPairs& rows,
                          nn::ForwardContext ctx) {
  const mx::array hidden =
      models::forward_hidden(args, weights, rows.inputs, ctx);
  // One row's logits (1, T, V) at a time, through the LM loss's own path.
  const int n = hidden.shape(0);
  const std::vector<mx::array> h = mx::split(hidden, n, 0);
  const std::vector<mx::array> t = mx::split(rows.targets, n, 0);
  const std::vector<mx::array> m = mx::split(rows.mask, n, 0);
  std::vector<mx::array> out;
  for (int b = 0; b < n; ++b) {
    out.push_back(mx::negative(
        chunked_lm_loss_sum(args, weights, h[b], t[b], m[b], ctx, 0)));
  }
  return mx::stack(out);
}

PairValues split_pairs(const mx::array& joined, int pairs) {
  return {mx::slice(joined, {0}, {pairs}),
          mx::slice(joined, {pairs}, {2 * pairs})};
}

LossFn dpo_loss(const models::ModelArgs& args,
                const nn::ForwardContext& forward,
                const DpoLossOptions& options,
                const ReferenceSpec& reference) {
  return [args, forward, options, reference](
             const Params& weights,
             const std::vector<mx::array>& batch,
             const mx::array& dropout_key) {
    const JoinedPairs rows = join_pairs(batch);
    const PairValues lengths = split_pairs(mx::sum(rows.mask, 1), rows.pairs);
    std::optional<PairValues> ref;
    switch (reference.from) {
    case ReferenceFrom::none:
      break;
    case ReferenceFrom::batch:
      ref = PairValues{batch[6], batch[7]};
      break;
    case ReferenceFrom::without_adapters:
    case ReferenceFrom::ref_weights: {
      nn::ForwardContext ref_ctx = forward;
      ref_ctx.lora_dropout = 0.0f;
      ref = split_pairs(mx::stop_gradient(joined_logprobs(
                            reference.args.value_or(args),
                            reference_weights(weights, reference.from),
                            rows,
                            ref_ctx)),
                        rows.pairs);
      break;
    }
    }
    nn::ForwardContext ctx = forward;
    ctx.dropout_key = dropout_key;
    const PairValues policy =
        split_pairs(joined_logprobs(args, weights, rows, ctx), rows.pairs);
    return dpo_loss_sums(policy, ref, lengths, options);
  };
}

} // namespace mlxt::train

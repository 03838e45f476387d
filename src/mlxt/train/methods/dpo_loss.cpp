#include "mlxt/train/methods/dpo_loss.h"

#include <algorithm>

#include "mlxt/models/transformer.h"
#include "mlxt/train/loss.h"

namespace mlxt::train {

namespace {

bool is_lora_name(const std::string& name) {
  return name.ends_with(".lora_a") || name.ends_with(".lora_b");
}

} // namespace

std::vector<std::string> dpo_metric_names() {
  return {
      "rewards_chosen", "rewards_rejected", "reward_margin", "reward_accuracy"};
}

std::vector<mx::array> dpo_loss_sums(const mx::array& policy_chosen,
                                     const mx::array& policy_rejected,
                                     const mx::array& ref_chosen,
                                     const mx::array& ref_rejected,
                                     const DpoLossOptions& options) {
  const float beta = static_cast<float>(options.beta);
  const float ls = static_cast<float>(options.label_smoothing);
  mx::array chosen_logratio = mx::subtract(policy_chosen, ref_chosen);
  mx::array rejected_logratio = mx::subtract(policy_rejected, ref_rejected);
  mx::array h = mx::subtract(chosen_logratio, rejected_logratio); // (B,)
  mx::array losses = h;
  switch (options.type) {
  case config::DpoLossType::sigmoid: {
    mx::array m = mx::multiply(mx::array(beta), h);
    losses = mx::negative(
        mx::add(mx::multiply(mx::array(1.0f - ls), log_sigmoid(m)),
                mx::multiply(mx::array(ls), log_sigmoid(mx::negative(m)))));
    break;
  }
  case config::DpoLossType::ipo:
    losses = mx::square(mx::subtract(h, mx::array(1.0f / (2.0f * beta))));
    break;
  case config::DpoLossType::hinge:
    losses = mx::maximum(
        mx::subtract(mx::array(1.0f), mx::multiply(mx::array(beta), h)),
        mx::array(0.0f));
    break;
  }
  // Rewards are reported, never trained.
  mx::array rewards_chosen =
      mx::multiply(mx::array(beta), mx::stop_gradient(chosen_logratio));
  mx::array rewards_rejected =
      mx::multiply(mx::array(beta), mx::stop_gradient(rejected_logratio));
  mx::array margin = mx::subtract(rewards_chosen, rewards_rejected);
  return {
      mx::sum(losses),
      mx::array(static_cast<float>(policy_chosen.shape(0))),
      mx::sum(rewards_chosen),
      mx::sum(rewards_rejected),
      mx::sum(margin),
      mx::sum(mx::astype(mx::greater(margin, mx::array(0.0f)), mx::float32))};
}

mx::array sequence_logprobs(const models::ModelArgs& args,
                            const Params& weights,
                            const mx::array& hidden,
                            const mx::array& targets,
                            const mx::array& mask,
                            const nn::ForwardContext& ctx) {
  // One row's logits (1, T, V) at a time, through the LM loss's own path.
  const int B = hidden.shape(0);
  const std::vector<mx::array> h = mx::split(hidden, B, 0);
  const std::vector<mx::array> t = mx::split(targets, B, 0);
  const std::vector<mx::array> m = mx::split(mask, B, 0);
  std::vector<mx::array> rows;
  for (int b = 0; b < B; ++b) {
    rows.push_back(mx::negative(
        chunked_lm_loss_sum(args, weights, h[b], t[b], m[b], ctx, 0)));
  }
  return mx::stack(rows);
}

LossFn dpo_loss(const models::ModelArgs& args,
                const nn::ForwardContext& forward,
                const DpoLossOptions& options) {
  return [args, forward, options](const Params& weights,
                                  const std::vector<mx::array>& batch,
                                  const mx::array& dropout_key) {
    nn::ForwardContext ctx = forward;
    ctx.dropout_key = dropout_key;
    // The reference: the same base without its adapters (layers find
    // adapters by name), so no second copy of the weights.
    Params reference;
    for (const auto& [name, value] : weights) {
      if (!is_lora_name(name)) {
        reference.insert_or_assign(name, value);
      }
    }
    // Chosen and rejected rows in one forward pass (TRL's
    // concatenated_forward): the shorter side is right-padded, and padding
    // is never a target.
    auto joined = [&batch](int i) {
      const mx::array& c = batch[i];
      const mx::array& r = batch[3 + i];
      const int T = std::max(c.shape(1), r.shape(1));
      auto to_t = [T](const mx::array& a) {
        return mx::pad(
            a, {{0, 0}, {0, T - a.shape(1)}}, mx::array(0, a.dtype()));
      };
      return mx::concatenate({to_t(c), to_t(r)}, 0);
    };
    const mx::array inputs = joined(0);
    const mx::array targets = joined(1);
    const mx::array mask = joined(2);
    const int B = batch[0].shape(0);
    const bool average = options.type == config::DpoLossType::ipo;
    // (2B,) log-probs: chosen rows first.
    auto logps = [&](const Params& w, nn::ForwardContext& c) {
      mx::array hidden = models::forward_hidden(args, w, inputs, c);
      mx::array lp = sequence_logprobs(args, w, hidden, targets, mask, c);
      // TRL's IPO works on token-averaged log-probs.
      return average ? mx::divide(lp, mx::sum(mask, 1)) : lp;
    };
    auto chosen = [B](const mx::array& a) { return mx::slice(a, {0}, {B}); };
    auto rejected = [B](const mx::array& a) {
      return mx::slice(a, {B}, {2 * B});
    };
    nn::ForwardContext ref_ctx = forward;
    ref_ctx.lora_dropout = 0.0f;
    const mx::array ref = mx::stop_gradient(logps(reference, ref_ctx));
    const mx::array pi = logps(weights, ctx);
    return dpo_loss_sums(
        chosen(pi), rejected(pi), chosen(ref), rejected(ref), options);
  };
}

} // namespace mlxt::train

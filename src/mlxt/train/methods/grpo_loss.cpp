#include "mlxt/train/methods/grpo_loss.h"

#include <cmath>

#include "mlxt/core/error.h"
#include "mlxt/models/transformer.h"
#include "mlxt/train/methods/kl.h"

namespace mlxt::train {

std::vector<double> group_advantages(const std::vector<double>& rewards,
                                     int group_size,
                                     config::RewardScaling scaling) {
  const size_t n = rewards.size();
  const size_t g = static_cast<size_t>(group_size);
  if (g < 2 || n % g != 0) {
    fail(ErrorCode::internal,
         "group_advantages: " + std::to_string(n) +
             " rewards are not groups of " + std::to_string(group_size));
  }
  // Unbiased standard deviation of rewards[begin, end).
  auto mean_std = [&rewards](size_t begin, size_t end) {
    double mean = 0.0;
    for (size_t i = begin; i < end; ++i) {
      mean += rewards[i];
    }
    mean /= double(end - begin);
    double ss = 0.0;
    for (size_t i = begin; i < end; ++i) {
      ss += (rewards[i] - mean) * (rewards[i] - mean);
    }
    return std::pair{mean, std::sqrt(ss / double(end - begin - 1))};
  };
  const double batch_std = mean_std(0, n).second;
  std::vector<double> advantages(n);
  for (size_t begin = 0; begin < n; begin += g) {
    const auto [mean, std] = mean_std(begin, begin + g);
    for (size_t i = begin; i < begin + g; ++i) {
      advantages[i] = rewards[i] - mean;
      if (scaling == config::RewardScaling::group) {
        advantages[i] /= std + 1e-4;
      } else if (scaling == config::RewardScaling::batch) {
        advantages[i] /= batch_std + 1e-4;
      }
    }
  }
  return advantages;
}

std::vector<std::string> grpo_metric_names() {
  return {"kl", "clip_fraction"};
}

std::vector<mx::array> grpo_loss_sums(const mx::array& logps,
                                      const mx::array& old_logps,
                                      const mx::array& ref_logps,
                                      const mx::array& advantages,
                                      const mx::array& mask,
                                      const GrpoLossOptions& options) {
  const float low = 1.0f - static_cast<float>(options.epsilon);
  const float high = 1.0f + static_cast<float>(options.epsilon_high);
  const mx::array a = mx::expand_dims(advantages, 1); // (N, 1)
  const mx::array ratio = mx::exp(mx::subtract(logps, old_logps));
  const mx::array clipped = mx::clip(ratio, mx::array(low), mx::array(high));
  mx::array per_token = mx::negative(
      mx::minimum(mx::multiply(ratio, a), mx::multiply(clipped, a)));
  const mx::array kl = kl_estimate(logps, ref_logps, KlEstimator::k3);
  if (options.kl_coef != 0.0) {
    per_token = mx::add(
        per_token,
        mx::multiply(mx::array(static_cast<float>(options.kl_coef)), kl));
  }
  const mx::array zero(0.0f);
  const mx::array clip_flag = mx::astype(
      mx::logical_or(
          mx::logical_and(mx::less(ratio, mx::array(low)), mx::less(a, zero)),
          mx::logical_and(mx::greater(ratio, mx::array(high)),
                          mx::greater(a, zero))),
      mx::float32);
  const mx::array m = mx::stop_gradient(mask);
  const mx::array kl_seen = mx::stop_gradient(kl);
  auto token_sum = [&m](const mx::array& x) {
    return mx::sum(mx::multiply(x, m));
  };
  if (options.type == config::GrpoLossType::dapo) {
    return {token_sum(per_token),
            mx::sum(m),
            token_sum(kl_seen),
            token_sum(clip_flag)};
  }
  // grpo, dr_grpo: counted over rows; metrics are per-row token means.
  const mx::array lengths = mx::maximum(mx::sum(m, 1), mx::array(1.0f));
  auto row_means = [&](const mx::array& x) {
    return mx::sum(mx::divide(mx::sum(mx::multiply(x, m), 1), lengths));
  };
  const mx::array rows(static_cast<float>(logps.shape(0)));
  const mx::array loss =
      options.type == config::GrpoLossType::grpo
          ? row_means(per_token)
          : mx::divide(token_sum(per_token),
                       mx::array(float(options.max_completion_length)));
  return {loss, rows, row_means(kl_seen), row_means(clip_flag)};
}

mx::array token_logprobs(const mx::array& logits, const mx::array& targets) {
  const mx::array target_logit = mx::squeeze(
      mx::take_along_axis(
          logits, mx::expand_dims(mx::stop_gradient(targets), -1), -1),
      -1);
  return mx::subtract(mx::astype(target_logit, mx::float32),
                      mx::astype(mx::logsumexp(logits, -1), mx::float32));
}

mx::array reference_token_logprobs(const models::ModelArgs& args,
                                   const Params& weights,
                                   const ReferenceSpec& reference,
                                   const nn::ForwardContext& forward,
                                   const mx::array& inputs,
                                   const mx::array& targets) {
  nn::ForwardContext ctx = forward;
  ctx.lora_dropout = 0.0f;
  return mx::stop_gradient(
      token_logprobs(models::forward(reference.args.value_or(args),
                                     reference_weights(weights, reference.from),
                                     inputs,
                                     ctx),
                     targets));
}

LossFn grpo_loss(const models::ModelArgs& args,
                 const nn::ForwardContext& forward,
                 const GrpoLossOptions& options,
                 const ReferenceSpec& reference) {
  return [args, forward, options, reference](
             const Params& weights,
             const std::vector<mx::array>& batch,
             const mx::array& dropout_key) {
    const mx::array& inputs = batch[0];
    const mx::array& targets = batch[1];
    nn::ForwardContext ctx = forward;
    ctx.dropout_key = dropout_key;
    const mx::array pi =
        token_logprobs(models::forward(args, weights, inputs, ctx), targets);
    const mx::array ref = reference_token_logprobs(
        args, weights, reference, forward, inputs, targets);
    return grpo_loss_sums(
        pi, mx::stop_gradient(pi), ref, batch[3], batch[2], options);
  };
}

} // namespace mlxt::train

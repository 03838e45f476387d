#include "mlxt/train/methods/ppo_loss.h"

#include <algorithm>
#include <cmath>

#include "mlxt/core/error.h"
#include "mlxt/models/scalar_head.h"
#include "mlxt/models/transformer.h"
#include "mlxt/train/methods/grpo_loss.h"

namespace mlxt::train {

std::vector<double> kl_penalised_rewards(double score,
                                         const std::vector<double>& kl,
                                         double kl_coef) {
  std::vector<double> rewards;
  for (double k : kl) {
    rewards.push_back(-kl_coef * k);
  }
  if (!rewards.empty()) {
    rewards.back() += score;
  }
  return rewards;
}

Gae gae(const std::vector<double>& rewards,
        const std::vector<double>& values,
        double gamma,
        double lambda) {
  if (rewards.size() != values.size()) {
    fail(ErrorCode::internal,
         "gae: " + std::to_string(rewards.size()) + " rewards but " +
             std::to_string(values.size()) + " values");
  }
  const size_t L = rewards.size();
  Gae out{std::vector<double>(L), std::vector<double>(L)};
  double next_advantage = 0.0;
  for (size_t i = L; i-- > 0;) {
    const double next_value = i + 1 < L ? values[i + 1] : 0.0;
    const double delta = rewards[i] + gamma * next_value - values[i];
    next_advantage = delta + gamma * lambda * next_advantage;
    out.advantages[i] = next_advantage;
    out.returns[i] = next_advantage + values[i];
  }
  return out;
}

void whiten(std::vector<std::vector<double>>& rows) {
  double sum = 0.0;
  size_t n = 0;
  for (const auto& row : rows) {
    for (double x : row) {
      sum += x;
      ++n;
    }
  }
  if (n < 2) {
    return;
  }
  const double mean = sum / double(n);
  double ss = 0.0;
  for (const auto& row : rows) {
    for (double x : row) {
      ss += (x - mean) * (x - mean);
    }
  }
  const double scale = 1.0 / std::sqrt(ss / double(n - 1) + 1e-8);
  for (auto& row : rows) {
    for (double& x : row) {
      x = (x - mean) * scale;
    }
  }
}

AdaptiveKlController::AdaptiveKlController(double init,
                                           double target,
                                           double horizon)
    : value_(init), target_(target), horizon_(horizon) {}

void AdaptiveKlController::update(double current_kl, double n_steps) {
  const double error = std::clamp(current_kl / target_ - 1.0, -0.2, 0.2);
  value_ *= 1.0 + error * n_steps / horizon_;
}

nlohmann::json AdaptiveKlController::state() const {
  return {{"kl_coef", value_}};
}

void AdaptiveKlController::restore(const nlohmann::json& state) {
  value_ = state.at("kl_coef").get<double>();
}

std::vector<std::string> ppo_metric_names() {
  return {"policy_loss", "value_loss", "clip_fraction", "value_clip_fraction"};
}

std::vector<mx::array> ppo_loss_sums(const mx::array& logps,
                                     const mx::array& old_logps,
                                     const mx::array& values,
                                     const mx::array& old_values,
                                     const mx::array& advantages,
                                     const mx::array& returns,
                                     const mx::array& mask,
                                     const PpoLossOptions& options) {
  const float eps = static_cast<float>(options.cliprange);
  const float eps_v = static_cast<float>(options.cliprange_value);
  const mx::array ratio = mx::exp(mx::subtract(logps, old_logps));
  const mx::array neg_a = mx::negative(advantages);
  const mx::array pg1 = mx::multiply(neg_a, ratio);
  const mx::array pg2 = mx::multiply(
      neg_a, mx::clip(ratio, mx::array(1.0f - eps), mx::array(1.0f + eps)));
  const mx::array policy = mx::maximum(pg1, pg2);
  const mx::array v_clipped =
      mx::clip(values,
               mx::subtract(old_values, mx::array(eps_v)),
               mx::add(old_values, mx::array(eps_v)));
  const mx::array vf1 = mx::square(mx::subtract(values, returns));
  const mx::array vf2 = mx::square(mx::subtract(v_clipped, returns));
  const mx::array value = mx::multiply(mx::array(0.5f), mx::maximum(vf1, vf2));
  const mx::array m = mx::stop_gradient(mask);
  auto token_sum = [&m](const mx::array& x) {
    return mx::sum(mx::multiply(x, m));
  };
  auto fraction = [&](const mx::array& a, const mx::array& b) {
    return token_sum(
        mx::stop_gradient(mx::astype(mx::greater(a, b), mx::float32)));
  };
  const mx::array policy_sum = token_sum(policy);
  const mx::array value_sum = token_sum(value);
  return {mx::add(policy_sum,
                  mx::multiply(mx::array(float(options.vf_coef)), value_sum)),
          mx::sum(m),
          mx::stop_gradient(policy_sum),
          mx::stop_gradient(value_sum),
          fraction(pg2, pg1),
          fraction(vf2, vf1)};
}

PpoSamplingPass ppo_sampling_pass(const models::ModelArgs& args,
                                  const Params& weights,
                                  const nn::ForwardContext& forward,
                                  const ReferenceSpec& reference,
                                  const mx::array& inputs,
                                  const mx::array& targets) {
  nn::ForwardContext ctx = forward;
  ctx.lora_dropout = 0.0f;
  ctx.checkpoint_blocks = false; // no backward pass here
  nn::ForwardContext hidden_ctx = ctx;
  const mx::array hidden =
      models::forward_hidden(args, weights, inputs, hidden_ctx);
  nn::ForwardContext head_ctx = ctx;
  const mx::array logps =
      token_logprobs(models::lm_head(args, weights, hidden, head_ctx), targets);
  const mx::array values = models::score_tokens(weights, hidden);
  return {
      mx::stop_gradient(logps),
      reference_token_logprobs(args, weights, reference, ctx, inputs, targets),
      mx::stop_gradient(values)};
}

LossFn ppo_loss(const models::ModelArgs& args,
                const nn::ForwardContext& forward,
                const PpoLossOptions& options) {
  return [args, forward, options](const Params& weights,
                                  const std::vector<mx::array>& batch,
                                  const mx::array& dropout_key) {
    nn::ForwardContext ctx = forward;
    ctx.dropout_key = dropout_key;
    const mx::array hidden =
        models::forward_hidden(args, weights, batch[0], ctx);
    const mx::array logps =
        token_logprobs(models::lm_head(args, weights, hidden, ctx), batch[1]);
    const mx::array values = models::score_tokens(weights, hidden);
    return ppo_loss_sums(logps,
                         batch[3],
                         values,
                         batch[4],
                         batch[5],
                         batch[6],
                         batch[2],
                         options);
  };
}

} // namespace mlxt::train

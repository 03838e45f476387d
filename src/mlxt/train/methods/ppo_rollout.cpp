#include "mlxt/train/methods/ppo_rollout.h"

#include <algorithm>
#include <string>

#include "mlxt/core/error.h"
#include "mlxt/train/methods/ppo_loss.h"

namespace mlxt::train {

namespace {

using nlohmann::json;

std::vector<float> as_floats(const std::vector<double>& v) {
  return std::vector<float>(v.begin(), v.end());
}

} // namespace

std::vector<int> completion_positions(const data::Example& e, int T) {
  std::vector<int> positions;
  for (int t = 0; t < T && t + 1 < static_cast<int>(e.loss_mask.size()); ++t) {
    if (e.loss_mask[t + 1] != 0) {
      positions.push_back(t);
    }
  }
  return positions;
}

PpoRollout build_ppo_rollout(const std::vector<SampledCompletion>& sampled,
                             double kl_coef,
                             double gamma,
                             double lambda) {
  PpoRollout out;
  std::vector<std::vector<double>> advantages;
  std::vector<std::vector<double>> returns;
  for (const SampledCompletion& s : sampled) {
    const size_t L = completion_positions(
                         s.sequence, static_cast<int>(s.sequence.tokens.size()))
                         .size();
    if (s.logps.size() != L || s.ref_logps.size() != L ||
        s.values.size() != L) {
      fail(ErrorCode::internal,
           "ppo rollout: a completion of " + std::to_string(L) +
               " tokens has " + std::to_string(s.logps.size()) +
               " log-probs, " + std::to_string(s.ref_logps.size()) +
               " reference log-probs and " + std::to_string(s.values.size()) +
               " values");
    }
    std::vector<double> kl;
    double kl_sum = 0.0;
    for (size_t t = 0; t < L; ++t) {
      kl.push_back(s.logps[t] - s.ref_logps[t]);
      kl_sum += kl.back();
    }
    Gae g = gae(
        kl_penalised_rewards(s.score, kl, kl_coef), s.values, gamma, lambda);
    advantages.push_back(std::move(g.advantages));
    returns.push_back(std::move(g.returns));
    out.mean_kl += kl_sum;
    out.mean_score += s.score;
    out.mean_non_score_reward += -kl_coef * kl_sum;
  }
  whiten(advantages);
  for (size_t i = 0; i < sampled.size(); ++i) {
    out.rows.push_back({sampled[i].sequence,
                        as_floats(sampled[i].logps),
                        as_floats(sampled[i].values),
                        as_floats(advantages[i]),
                        as_floats(returns[i])});
  }
  if (!sampled.empty()) {
    const double n = static_cast<double>(sampled.size());
    out.mean_kl /= n;
    out.mean_score /= n;
    out.mean_non_score_reward /= n;
  }
  return out;
}

std::vector<MethodBatch> ppo_batches(const PpoRollout& rollout,
                                     const data::BatchOptions& options) {
  std::vector<MethodBatch> batches;
  const size_t size = static_cast<size_t>(options.batch_size);
  for (size_t begin = 0; begin < rollout.rows.size(); begin += size) {
    const size_t end = std::min(rollout.rows.size(), begin + size);
    std::vector<const data::Example*> examples;
    for (size_t i = begin; i < end; ++i) {
      examples.push_back(&rollout.rows[i].sequence);
    }
    data::Batch b = data::make_batch(examples, options);
    const int B = b.targets.shape(0);
    const int T = b.targets.shape(1);
    std::vector<std::vector<float>> per_token(
        4, std::vector<float>(static_cast<size_t>(B) * T, 0.0f));
    for (int r = 0; r < B; ++r) {
      const PpoRow& row = rollout.rows[begin + r];
      const std::vector<int> positions = completion_positions(row.sequence, T);
      for (size_t k = 0; k < positions.size(); ++k) {
        const size_t at = static_cast<size_t>(r) * T + positions[k];
        per_token[0][at] = row.old_logps[k];
        per_token[1][at] = row.old_values[k];
        per_token[2][at] = row.advantages[k];
        per_token[3][at] = row.returns[k];
      }
    }
    std::vector<mx::array> arrays = {b.inputs, b.targets, b.mask};
    for (auto& values : per_token) {
      arrays.push_back(mx::array(values.begin(), {B, T}, mx::float32));
    }
    batches.push_back({std::move(arrays), b.input_tokens, b.target_tokens});
  }
  return batches;
}

json to_json(const PpoRollout& rollout) {
  json rows = json::array();
  for (const PpoRow& r : rollout.rows) {
    rows.push_back({{"tokens", r.sequence.tokens},
                    {"loss_mask", r.sequence.loss_mask},
                    {"old_logps", r.old_logps},
                    {"old_values", r.old_values},
                    {"advantages", r.advantages},
                    {"returns", r.returns}});
  }
  return {{"rows", rows},
          {"mean_kl", rollout.mean_kl},
          {"mean_score", rollout.mean_score},
          {"mean_non_score_reward", rollout.mean_non_score_reward}};
}

PpoRollout ppo_rollout_from_json(const json& state) {
  PpoRollout out;
  for (const json& r : state.at("rows")) {
    out.rows.push_back({{r.at("tokens").get<std::vector<int32_t>>(),
                         r.at("loss_mask").get<std::vector<uint8_t>>()},
                        r.at("old_logps").get<std::vector<float>>(),
                        r.at("old_values").get<std::vector<float>>(),
                        r.at("advantages").get<std::vector<float>>(),
                        r.at("returns").get<std::vector<float>>()});
  }
  out.mean_kl = state.at("mean_kl").get<double>();
  out.mean_score = state.at("mean_score").get<double>();
  out.mean_non_score_reward = state.at("mean_non_score_reward").get<double>();
  return out;
}

} // namespace mlxt::train

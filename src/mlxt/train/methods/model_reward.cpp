#include "mlxt/train/methods/model_reward.h"

#include <algorithm>

#include "mlxt/core/error.h"
#include "mlxt/data/batching.h"
#include "mlxt/models/scalar_head.h"
#include "mlxt/train/methods/reward_model.h"

namespace mlxt::train {

namespace {

// Completions scored per forward pass: bounds the reward model's
// activations whatever the rollout batch.
constexpr size_t kScoreBatch = 16;

class ModelReward : public RewardSource {
public:
  ModelReward(RewardScorer scorer, mx::Dtype compute_dtype)
      : scorer_(std::move(scorer)) {
    ctx_.lora_scale = scorer_.lora_scale;
    ctx_.compute_dtype = compute_dtype;
  }

  std::vector<double>
  score(const std::vector<ScoredCompletion>& completions) override {
    std::vector<double> scores;
    for (size_t begin = 0; begin < completions.size(); begin += kScoreBatch) {
      const size_t end = std::min(completions.size(), begin + kScoreBatch);
      for (float s : score_batch(completions, begin, end)) {
        scores.push_back(s);
      }
    }
    return scores;
  }

private:
  // Rows begin..end as right-padded prompt + completion ids.
  std::vector<float> score_batch(const std::vector<ScoredCompletion>& c,
                                 size_t begin,
                                 size_t end) {
    std::vector<std::vector<int>> rows;
    size_t longest = 1;
    for (size_t i = begin; i < end; ++i) {
      std::vector<int> row = c[i].prompt->tokens;
      row.insert(row.end(), c[i].tokens.begin(), c[i].tokens.end());
      longest = std::max(longest, row.size());
      rows.push_back(std::move(row));
    }
    const int pad = data::default_pad_multiple();
    const int T = static_cast<int>((longest + pad - 1) / pad * pad);
    const int B = static_cast<int>(rows.size());
    std::vector<int32_t> ids(static_cast<size_t>(B) * T, 0);
    std::vector<int32_t> last;
    for (int b = 0; b < B; ++b) {
      std::copy(rows[b].begin(), rows[b].end(), ids.begin() + size_t(b) * T);
      last.push_back(static_cast<int32_t>(rows[b].size()) - 1);
    }
    const models::Model& m = scorer_.opened.model;
    mx::array scores =
        models::sequence_scores(m.args,
                                m.weights,
                                mx::array(ids.begin(), {B, T}, mx::int32),
                                mx::array(last.begin(), {B}, mx::int32),
                                ctx_);
    mx::eval(scores);
    const float* s = scores.data<float>();
    return std::vector<float>(s, s + B);
  }

  RewardScorer scorer_;
  nn::ForwardContext ctx_;
};

} // namespace

std::unique_ptr<RewardSource>
make_reward_source(const config::TrainConfig& config,
                   const tokenizer::Tokenizer& policy) {
  if (config.reward_model.empty()) {
    return make_rule_reward(config.reward);
  }
  RewardScorer scorer = load_reward_scorer(config.reward_model, "reward_model");
  if (auto difference =
          tokenizer::vocabulary_difference(policy, scorer.opened.tokenizer)) {
    fail(ErrorCode::invalid_config,
         "the reward model's vocabulary differs from the policy's (" +
             *difference +
             "); it scores the policy's token ids, so it needs the policy's "
             "tokenizer",
         {.file = config.reward_model, .key = "reward_model"});
  }
  return std::make_unique<ModelReward>(
      std::move(scorer), config::to_mx_dtype(config.compute_dtype));
}

} // namespace mlxt::train

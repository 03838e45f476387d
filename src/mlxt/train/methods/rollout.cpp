#include "mlxt/train/methods/rollout.h"

#include <algorithm>

#include "mlxt/generate/batch_generate.h"

namespace mlxt::train {

Rollouts sample_rollouts(const models::ModelArgs& args,
                         const Params& weights,
                         const nn::ForwardContext& forward,
                         const tokenizer::Tokenizer& tok,
                         const std::vector<const data::PromptRow*>& prompts,
                         int group_size,
                         const generate::SamplingOptions& sampling,
                         mx::array& key) {
  std::vector<std::vector<int>> inputs;
  for (const data::PromptRow* p : prompts) {
    for (int g = 0; g < group_size; ++g) {
      inputs.emplace_back(p->tokens.begin(), p->tokens.end());
    }
  }
  std::vector<std::vector<int>> new_ids =
      generate::generate_batch(args, weights, forward, inputs, sampling, key);
  Rollouts r;
  for (size_t i = 0; i < new_ids.size(); ++i) {
    const data::PromptRow* prompt = prompts[i / group_size];
    std::vector<int>& ids = new_ids[i];
    std::vector<int> text_ids = ids;
    if (!text_ids.empty() &&
        std::find(sampling.stop_ids.begin(),
                  sampling.stop_ids.end(),
                  text_ids.back()) != sampling.stop_ids.end()) {
      text_ids.pop_back();
    }
    data::Example seq;
    seq.tokens = prompt->tokens;
    seq.tokens.insert(seq.tokens.end(), ids.begin(), ids.end());
    seq.loss_mask.assign(prompt->tokens.size(), 0);
    seq.loss_mask.resize(seq.tokens.size(), 1);
    r.sequences.push_back(std::move(seq));
    r.completions.push_back({prompt, std::move(ids), tok.decode(text_ids)});
  }
  return r;
}

} // namespace mlxt::train

// What the online-RL methods (grpo, ppo) share around their rollouts: the
// set-up checks, the prompt rows and their order, validation by greedy
// completions scored with the run's reward, and OnlineRlMethod, the part of
// the Method both are.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mlxt/config/config.h"
#include "mlxt/data/batching.h"
#include "mlxt/data/prompt_data.h"
#include "mlxt/generate/generate.h"
#include "mlxt/gguf/model_source.h"
#include "mlxt/models/model.h"
#include "mlxt/nn/layers.h"
#include "mlxt/tokenizer/tokenizer.h"
#include "mlxt/train/method.h"
#include "mlxt/train/methods/dpo_forward.h"
#include "mlxt/train/methods/rewards.h"
#include "mlxt/train/methods/rollout.h"
#include "mlxt/train/trainable.h"

namespace mlxt::train {

//! Refuses what online RL does not offer, naming the key: packing,
//! streaming, and a max_completion_length that leaves no room for a prompt.
void check_online_rl(const config::TrainConfig& config,
                     const std::string& method);

//! Reads every split of prompt rows, prompts cut to leave
//! max_completion_length; with a rule reward (no reward_model), checks that
//! each row has an answer the rule can use.
data::PromptDataset load_rl_prompts(const config::TrainConfig& config,
                                    const tokenizer::Tokenizer& tok,
                                    const std::string& method);

//! The frozen reference the KL term reads (methods/dpo_reference.h: a
//! ref_model, a copy of the starting weights for full fine-tuning, for LoRA
//! the base with the adapters off, plus the starting adapters of a
//! resume_adapter_file), its arrays added to `split.frozen`.
ReferenceSpec add_reference(const config::TrainConfig& config,
                            const gguf::ModelWithTokenizer& policy,
                            ParamSplit& split);

//! The start record's fields for the reward: {"reward": the rule} or
//! {"reward_model": its path}.
nlohmann::json reward_fields(const config::TrainConfig& config);

//! The training prompts in a seeded order, reshuffled each epoch: the
//! `count` prompts from position `first` of the run's stream.
class PromptSchedule {
public:
  PromptSchedule(const data::PromptSplit& split, uint64_t seed)
      : rows_(split.rows), seed_(seed) {}
  std::vector<const data::PromptRow*> take(long first, long count);

private:
  const std::vector<data::PromptRow>& rows_;
  uint64_t seed_;
  long epoch_ = -1;           // the epoch order_ belongs to
  std::vector<size_t> order_; // prompt order of that epoch
};

//! What validation of an online-RL policy needs.
struct RewardEvaluation {
  const models::ModelArgs& args;
  const nn::ForwardContext& forward;
  const tokenizer::Tokenizer& tok;
  RewardSource& reward;
  generate::SamplingOptions sampling; // its temperature is set to 0
  long batch_size = 1;                // prompts per generation
};

//! Greedy completions of the split's prompts (at most max_batches batches;
//! -1: all), scored by the reward: val_loss is the mean reward's negation
//! (lower is better for best-checkpoint retention), with metrics reward,
//! completion_length and prompts.
EvalReport evaluate_rewards(const RewardEvaluation& e,
                            const Params& weights,
                            const data::PromptSplit& split,
                            int max_batches,
                            const ProgressFn& progress);

//! What grpo and ppo are alike as methods of the loop: the policy (LoRA or
//! full) and its frozen reference, the prompt rows in their seeded order,
//! the reward source, the sampling options and the rollout RNG key (the
//! checkpointed state: a resumed run samples what the uninterrupted one
//! did), the optimizer step's micro-batches that before_update() fills,
//! validation by greedy completions' mean reward, and saving the trained
//! arrays. A subclass gives the loss, the generation phase, its metrics and
//! its start fields.
class OnlineRlMethod : public Method {
public:
  const ParamSplit& parameters() const override { return params_; }
  MethodBatch next_batch(long index) override;
  void seek(long batch_index, const nlohmann::json& cursor) override;
  std::optional<EvalReport> evaluate(const Params& weights,
                                     EvalSplit split,
                                     const ProgressFn& progress) override;
  std::string save(const Params& trained,
                   int step,
                   bool final,
                   const nlohmann::json& run_config) override;
  nlohmann::json extra_state() const override;
  void restore_extra_state(const nlohmann::json& state) override;
  std::vector<nlohmann::json> setup_records() const override;

protected:
  //! Opens the model, the prompt rows, the reward source and the reference
  //! for `config`, already checked by the subclass; `method` names it in
  //! messages.
  OnlineRlMethod(const config::TrainConfig& config, const std::string& method);

  //! The start record's fields both methods give (model, method, reward,
  //! reference, prompts).
  nlohmann::json common_start_fields() const;

  //! Samples group_size completions of each prompt with `weights`,
  //! advancing the rollout key.
  Rollouts sample(const Params& weights,
                  const std::vector<const data::PromptRow*>& prompts,
                  int group_size);

  config::TrainConfig config_;
  std::string method_;
  gguf::ModelWithTokenizer opened_;
  data::PromptDataset data_;
  PromptSchedule schedule_;
  ParamSplit params_;
  ReferenceSpec reference_; // what the KL term reads
  nn::ForwardContext forward_;
  std::unique_ptr<RewardSource> reward_;
  data::BatchOptions batch_options_;
  generate::SamplingOptions sampling_;
  long step_ = 0;                    // optimizer steps begun
  std::vector<MethodBatch> batches_; // the step's micro-batches

private:
  mx::array key_; // uint32 (2,): the rollout RNG
};

} // namespace mlxt::train

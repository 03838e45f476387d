// What a training method gives the one training loop (train/loop.h).
//
// The loop owns the run: the compiled step and its cadence, gradient
// accumulation, the non-finite guard, reports and progress, evaluation and
// saving points, checkpoints, exact resume and stop requests. A method owns
// what differs: which arrays are trained and which stay frozen, its batches
// and their data cursor, its loss and metrics, how it evaluates and what it
// saves. SFT (methods/sft.h), DPO (methods/dpo.h), reward models
// (methods/reward.h), GRPO (methods/grpo.h) and PPO (methods/ppo.h) are the
// methods today.
//
// How later methods fit without changing the loop:
//
// - DPO (its LoRA form is methods/dpo.h). parameters(): the policy's trainable
// split (full or LoRA); the
//   frozen list holds the base weights and, for a separate reference model,
//   its weights under a "ref." prefix (for LoRA, the reference is the same
//   base with the adapters left out of the weight map, so no second copy).
//   next_batch(): chosen and rejected rows of each pair, (inputs, targets,
//   mask) twice, plus precomputed reference log-probs when cached. loss():
//   summed-log-prob differences through -log sigmoid(beta * margin) (or ipo,
//   hinge, ...), count = pairs, metrics = rewards_chosen, rewards_rejected,
//   reward_margin, reward_accuracy sums. evaluate(): the same loss over the
//   validation pairs.
// - Distillation. frozen: the student's base plus each teacher's weights
//   under "teacher<i>."; loss(): the student's and teachers' logits in one
//   graph, the soft loss (KL, MSE, cosine) mixed with the hard-label loss;
//   an adaptive temperature is extra_state().
// - GRPO (methods/grpo.h) and PPO (methods/ppo.h). before_update() runs
//   the generation phase (rollouts with the current weights, rewards,
//   advantages) and fills the batches next_batch() returns; report_metrics()
//   hands the rewards to the train report; the rollout RNG key (and PPO's KL
//   controller and a rollout batch still being trained) lives in
//   extra_state().
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mlxt/core/params.h"
#include "mlxt/train/step.h"
#include "mlxt/train/trainable.h"

namespace mlxt::train {

//! One micro-batch for the compiled step.
struct MethodBatch {
  std::vector<mx::array> arrays; // what LossFn receives as `batch`
  long tokens = 0;        // non-padding input tokens (host count: throughput)
  long target_tokens = 0; // positions the loss trains (host count)
};

//! Progress of a long pass (an evaluation): `done` of `total` units.
using ProgressFn = std::function<void(long done, long total)>;

//! What an evaluation pass reports. `loss` drives best-checkpoint retention.
struct EvalReport {
  double loss = 0.0;
  nlohmann::json metrics = nlohmann::json::object(); // e.g. val_ppl
};

enum class EvalSplit { valid, test };

class Method {
public:
  virtual ~Method() = default;

  //! The arrays the step trains and those it reads frozen, by name; the
  //! loop takes their initial values once.
  virtual const ParamSplit& parameters() const = 0;

  //! The loss the compiled step differentiates, the number of arrays in
  //! each batch, and the names of the metric sums the loss returns.
  virtual LossFn loss() const = 0;
  virtual int batch_arrays() const = 0;
  virtual std::vector<std::string> metric_names() const { return {}; }

  //! The training micro-batch number `index` of the run (0, 1, ...: the
  //! loop counts them and checkpoints the count).
  virtual MethodBatch next_batch(long index) = 0;
  //! Where the batches stand beyond that count (a shard stream's position),
  //! as keys stored beside the loop's in a checkpoint's state.json; seek()
  //! continues from a checkpoint's (exact resume). Default: nothing more.
  virtual nlohmann::json data_cursor() const {
    return nlohmann::json::object();
  }
  virtual void seek(long batch_index, const nlohmann::json& cursor) {
    (void)batch_index;
    (void)cursor;
  }

  //! Runs before each optimizer step's micro-batches with the current
  //! weights (a generation phase: rollouts). Default: nothing.
  virtual void before_update(const Params& weights) { (void)weights; }
  //! What the method measured on the host since the last call (a
  //! generation phase's rewards and completion lengths), added to the
  //! loop's next train report. Default: nothing.
  virtual nlohmann::json report_metrics() { return nlohmann::json::object(); }

  //! Evaluates `weights` (trainable and frozen) on a split; nothing when the
  //! run has no such split.
  virtual std::optional<EvalReport> evaluate(const Params& weights,
                                             EvalSplit split,
                                             const ProgressFn& progress) = 0;

  //! Writes the run's output (adapters or a model folder) from the trained
  //! arrays: intermediate saves at `step`, the final one when `final`.
  //! `run_config` is the resolved config saved with the run. Returns where
  //! it was written.
  virtual std::string save(const Params& trained,
                           int step,
                           bool final,
                           const nlohmann::json& run_config) = 0;

  //! State beyond arrays and the data cursor that an exact resume needs
  //! (a KL controller, an adaptive temperature). Default: none.
  virtual nlohmann::json extra_state() const { return nullptr; }
  virtual void restore_extra_state(const nlohmann::json& state) { (void)state; }

  //! Fields of the run's start record (what will run: examples, model size,
  //! fine-tune type) and records to log before it (cache reuse, warnings).
  virtual nlohmann::json start_fields() const = 0;
  virtual std::vector<nlohmann::json> setup_records() const { return {}; }
};

} // namespace mlxt::train

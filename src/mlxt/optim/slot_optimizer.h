// Internal to optim: the skeleton every optimizer here is written in, after
// MLX's mlx.optimizers.Optimizer (its init / apply_gradients over
// init_single / apply_single).
//
// SlotOptimizer<Rule> owns what all optimizers share: the state layout (each
// parameter's slots together, in parameter order: [m_0, v_0, m_1, v_1, ...]),
// its checkpoint names ("<param>.<slot>"), init over the parameters, the
// learning rate at the step, the input checks, and the update's loop over
// the parameters. A rule, one per optimizer file, writes only its formula:
//
//   struct Lion {
//     static constexpr const char* kName = "lion";  // errors, configs
//     LionOptions options;                          // has learning_rate
//     std::vector<std::string> slot_names() const;  // {"m"}
//     // The single-parameter update: returns the new parameter and leaves
//     // the new slots in `slots` (a slot it does not update stays as is).
//     mx::array apply_single(const mx::array& param, const mx::array& grad,
//                            Slots& slots, const LearningRate& at) const;
//   };
//
// and, where the defaults do not fit:
//   Slots init_single(const mx::array& param) const;  // default: every slot
//                                                     // zeros_like(param)
//   struct Step { ... };                // what all parameters share in one
//   Step at_step(const mx::array& step) const;  // update; default:
//                                               // LearningRate
//
// The step's values are computed once per update, so per-step scalars (the
// schedule's value, bias corrections) are one node each in the traced graph,
// not one per parameter.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <mlx/mlx.h>

#include "mlxt/core/error.h"
#include "mlxt/optim/optimizer.h"
#include "mlxt/optim/state_layout.h"
#include "mlxt/optim/update_support.h"

namespace mlxt::optim::detail {

//! The default step values: the learning rate only.
struct LearningRate {
  mx::array lr; // () float32
};

template <class Rule>
class SlotOptimizer final : public Optimizer {
public:
  explicit SlotOptimizer(Rule rule)
      : rule_(std::move(rule)), slot_names_(rule_.slot_names()) {}

  std::string name() const override { return Rule::kName; }

  std::vector<mx::array>
  init_state(const std::vector<mx::array>& params) const override {
    return concat_per_param<mx::array>(
        params.size(), [&](size_t i) { return init_single(params[i]); });
  }

  std::vector<std::string>
  state_names(const std::vector<std::string>& param_names) const override {
    return concat_per_param<std::string>(param_names.size(), [&](size_t i) {
      return slot_state_names(param_names[i], slot_names_);
    });
  }

  std::pair<std::vector<mx::array>, std::vector<mx::array>>
  update(const std::vector<mx::array>& params,
         const std::vector<mx::array>& grads,
         const std::vector<mx::array>& state,
         const mx::array& step) const override {
    const size_t k = slot_names_.size();
    check_inputs(params, grads, state, k);
    const auto at = at_step(step);
    std::vector<mx::array> new_params;
    std::vector<mx::array> new_state;
    new_params.reserve(params.size());
    new_state.reserve(state.size());
    for (size_t i = 0; i < params.size(); ++i) {
      Slots slots(state.begin() + k * i, state.begin() + k * (i + 1));
      new_params.push_back(rule_.apply_single(params[i], grads[i], slots, at));
      for (auto& s : slots) {
        new_state.push_back(std::move(s));
      }
    }
    return {std::move(new_params), std::move(new_state)};
  }

private:
  Slots init_single(const mx::array& param) const {
    if constexpr (requires { rule_.init_single(param); }) {
      return rule_.init_single(param);
    } else {
      Slots slots; // one zeros array each, as MLX's init_single
      for (size_t j = 0; j < slot_names_.size(); ++j) {
        slots.push_back(mx::zeros_like(param));
      }
      return slots;
    }
  }

  auto at_step(const mx::array& step) const {
    if constexpr (requires { rule_.at_step(step); }) {
      return rule_.at_step(step);
    } else {
      return LearningRate{learning_rate_at(rule_.options.learning_rate, step)};
    }
  }

  // k state arrays per parameter and gradients shaped as the parameters; a
  // mismatch is a caller bug, hence internal.
  static void check_inputs(const std::vector<mx::array>& params,
                           const std::vector<mx::array>& grads,
                           const std::vector<mx::array>& state,
                           size_t k) {
    const std::string op = std::string("[") + Rule::kName + "] ";
    if (grads.size() != params.size() || state.size() != k * params.size()) {
      fail(ErrorCode::internal,
           op + "expected " + std::to_string(params.size()) +
               " gradients and " + std::to_string(k * params.size()) +
               " state arrays for " + std::to_string(params.size()) +
               " parameters, but received " + std::to_string(grads.size()) +
               " and " + std::to_string(state.size()) + ".");
    }
    for (size_t i = 0; i < params.size(); ++i) {
      if (grads[i].shape() != params[i].shape()) {
        fail(ErrorCode::internal,
             op + "parameter " + std::to_string(i) +
                 ": the gradient's shape differs from the parameter's.");
      }
    }
  }

  Rule rule_;
  std::vector<std::string> slot_names_;
};

//! The optimizer whose formula is `Rule`, built from its options.
template <class Rule, class Options>
std::unique_ptr<Optimizer> make_slot_optimizer(const Options& options) {
  return std::make_unique<SlotOptimizer<Rule>>(Rule{options});
}

} // namespace mlxt::optim::detail

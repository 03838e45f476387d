// Parameter groups: different hyper-parameters for different parameters
// (another learning rate for LoRA B or the embeddings, no weight decay for
// biases, norms and embeddings), chosen by patterns over parameter names.
//
// The JSON (README.md shows it in a training config):
//   {"weight_decay_exclude": ["bias", "norm", "embed"],
//    "groups": [{"name": "lora_b", "match": ["*.lora_b"], "lr_scale": 16},
//               {"name": "embeddings", "match": ["embed_tokens"],
//                "lr": 1e-5, "beta2": 0.99}]}
// A pattern with a glob character (* ? [) must match the whole name
// (fnmatch; * crosses dots); a plain word matches where it occurs in the
// name, as HF's and Axolotl's module lists do. The first group whose
// pattern matches a parameter takes it; the rest stay in "default". A group
// overrides any of the optimizer's catalogue parameters and scales the
// learning-rate schedule by `lr_scale`, or by lr / base learning rate when
// it gives `lr`. A parameter matching weight_decay_exclude gets
// weight_decay 0 in whichever group it is in.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mlxt/optim/optimizer.h"
#include "mlxt/optim/schedule.h"

namespace mlxt::optim {

//! One resolved group: its hyper-parameters and the parameters it holds.
struct ParamGroup {
  std::string name;          // "default", a rule's name, "+no_decay" suffix
  nlohmann::json params;     // every catalogue parameter, resolved
  double lr_scale = 1.0;     // multiplies the learning-rate schedule
  std::vector<size_t> index; // positions in the parameter list, ascending
};

//! Which group every parameter is in.
struct GroupPlan {
  std::vector<ParamGroup> groups; // only groups with members, first-use order
  std::vector<size_t> group_of;   // per parameter: index into groups
};

//! Resolves `groups_json` (the JSON above; null: one default group) for
//! optimizer `name` with base hyper-parameters `params` over `param_names`.
//! `base_lr` is what a group's `lr` is relative to (0: `lr` is refused).
//! Throws Error(invalid_config) naming the key ("param_groups.groups[1].lr")
//! for unknown keys, bad values, a pattern that matches no parameter, or
//! `lr` with `lr_scale` together.
GroupPlan plan_param_groups(const std::string& name,
                            const nlohmann::json& params,
                            const nlohmann::json& groups_json,
                            const std::vector<std::string>& param_names,
                            double base_lr);

//! True when `pattern` selects `param_name` (glob over the whole name, or a
//! plain word anywhere in it).
bool pattern_matches(const std::string& pattern, const std::string& param_name);

//! An optimizer that runs the catalogue optimizer `name` once per group of
//! `plan`, each with its own hyper-parameters and `lr` scaled by its
//! lr_scale. Its state is every parameter's slots in parameter order, so
//! with one group it is laid out exactly as the plain optimizer's, and
//! state_names names them "<param>.<slot>" as that optimizer does.
std::unique_ptr<Optimizer> make_grouped_optimizer(const std::string& name,
                                                  const GroupPlan& plan,
                                                  Schedule lr);

//! plan_param_groups then make_grouped_optimizer: what a training config
//! with `optimizer`, its parameters and `param_groups` builds.
std::unique_ptr<Optimizer>
make_grouped_optimizer(const std::string& name,
                       const nlohmann::json& params,
                       Schedule lr,
                       const nlohmann::json& groups_json,
                       const std::vector<std::string>& param_names,
                       double base_lr = 0.0);

//! The keys of the param_groups JSON, with help, for
//! optimizer_catalogue_json (and so the REST API and docs).
nlohmann::json param_groups_schema_json();

//! {"groups": [{"name", "lr_scale", "params", "members": [names]}]}: what
//! a run should log so users see which parameters got which settings.
nlohmann::json describe_plan(const GroupPlan& plan,
                             const std::vector<std::string>& param_names);

} // namespace mlxt::optim

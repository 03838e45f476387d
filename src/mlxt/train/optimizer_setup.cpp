#include "mlxt/train/optimizer_setup.h"

#include "mlxt/optim/catalogue.h"
#include "mlxt/optim/param_groups.h"

namespace mlxt::train {

using nlohmann::json;

optim::Schedule make_learning_rate_schedule(const config::TrainConfig& c) {
  if (!c.lr_schedule) {
    return optim::constant_schedule(static_cast<float>(c.learning_rate));
  }
  const config::LrSchedule& s = *c.lr_schedule;
  optim::Schedule schedule;
  if (s.name == "constant" && s.arguments.empty()) {
    schedule = optim::constant_schedule(static_cast<float>(c.learning_rate));
  } else {
    // Positional arguments fill the catalogue's parameters in order;
    // validation already checked their count and kinds.
    const auto& specs = optim::schedule_specs();
    auto spec = std::find_if(specs.begin(), specs.end(), [&](const auto& x) {
      return x.name == s.name;
    });
    json params = json::object();
    for (size_t i = 0; spec != specs.end() && i < s.arguments.size() &&
                       i < spec->params.size();
         ++i) {
      const auto& param = spec->params[i];
      params[param.name] = param.type == optim::ParamType::integer
                               ? json(static_cast<long>(s.arguments[i]))
                               : json(s.arguments[i]);
    }
    schedule = optim::make_schedule(s.name, params);
  }
  if (s.warmup > 0) {
    schedule = optim::with_warmup(
        schedule, s.warmup, static_cast<float>(s.warmup_init));
  }
  return schedule;
}

std::unique_ptr<optim::Optimizer>
make_configured_optimizer(const config::TrainConfig& c,
                          optim::Schedule learning_rate,
                          const std::vector<std::string>& param_names) {
  json params = json::object();
  std::string name = c.optimizer;
  if (auto block = c.optimizer_params.find(name);
      block != c.optimizer_params.end()) {
    for (const auto& [key, value] : block->second) {
      params[key] = value;
    }
  }
  // adam is adamw without weight decay (the catalogue lists adamw only).
  if (name == "adam") {
    params["weight_decay"] = 0.0;
    name = "adamw";
  }
  return optim::make_grouped_optimizer(name,
                                       params,
                                       std::move(learning_rate),
                                       c.param_groups,
                                       param_names,
                                       c.learning_rate);
}

} // namespace mlxt::train

// The optimizer and learning-rate schedule a TrainConfig asks for, built
// through the optimizer catalogue (optim/catalogue.h), so the trainer, the
// config validation and the REST catalogue share one table.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "mlxt/config/config.h"
#include "mlxt/optim/optimizer.h"
#include "mlxt/optim/schedule.h"

namespace mlxt::train {

//! lr_schedule (mlx-lm's positional arguments, then the optional warm-up),
//! or a constant learning_rate when there is none.
optim::Schedule make_learning_rate_schedule(const config::TrainConfig& config);

//! `config.optimizer` with its settings over `param_names` (the trainable
//! parameters, in the step's order), with its optimizer_params over the
//! catalogue's defaults (adam: adamw without weight decay); param_groups split
//! them into groups (Error(invalid_config) naming the param_groups key).
std::unique_ptr<optim::Optimizer>
make_configured_optimizer(const config::TrainConfig& config,
                          optim::Schedule learning_rate,
                          const std::vector<std::string>& param_names);

} // namespace mlxt::train

// The training method a config names, run through the one loop.
#pragma once

#include <iosfwd>
#include <memory>

#include "mlxt/config/config.h"
#include "mlxt/train/loop.h"
#include "mlxt/train/method.h"

namespace mlxt::train {

//! The method `config` asks for (sft, dpo, reward or grpo), set up: model
//! opened, data encoded.
std::unique_ptr<Method> make_method(const config::TrainConfig& config);

//! make_method, then run_loop: a whole `mlxt train` run.
RunResult run_training(const config::TrainConfig& config,
                       std::ostream& out,
                       const ResumeFrom& resume = {});

} // namespace mlxt::train

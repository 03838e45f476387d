#include "mlxt/train/methods/methods.h"

#include "mlxt/train/methods/dpo.h"
#include "mlxt/train/methods/grpo.h"
#include "mlxt/train/methods/ppo.h"
#include "mlxt/train/methods/reward.h"
#include "mlxt/train/methods/sft.h"

namespace mlxt::train {

std::unique_ptr<Method> make_method(const config::TrainConfig& config) {
  switch (config.method) {
  case config::TrainMethod::dpo:
    return make_dpo_method(config);
  case config::TrainMethod::reward:
    return make_reward_method(config);
  case config::TrainMethod::grpo:
    return make_grpo_method(config);
  case config::TrainMethod::ppo:
    return make_ppo_method(config);
  case config::TrainMethod::sft:
    break;
  }
  return make_sft_method(config);
}

RunResult run_training(const config::TrainConfig& config,
                       std::ostream& out,
                       const ResumeFrom& resume) {
  std::unique_ptr<Method> method = make_method(config);
  return run_loop(config, *method, out, resume);
}

} // namespace mlxt::train

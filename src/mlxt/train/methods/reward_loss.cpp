#include "mlxt/train/methods/reward_loss.h"

#include "mlxt/models/scalar_head.h"
#include "mlxt/train/loss.h"

namespace mlxt::train {

std::vector<mx::array> reward_loss_sums(const mx::array& chosen,
                                        const mx::array& rejected,
                                        const mx::array& margin,
                                        const RewardLossOptions& options) {
  const mx::array difference = mx::subtract(chosen, rejected); // (B,)
  mx::array losses =
      mx::negative(log_sigmoid(mx::subtract(difference, margin)));
  if (options.center_rewards_coefficient != 0.0) {
    const float c = static_cast<float>(options.center_rewards_coefficient);
    losses = mx::add(
        losses,
        mx::multiply(mx::array(c), mx::square(mx::add(chosen, rejected))));
  }
  // Rewards are reported, never trained through the metrics.
  const mx::array c = mx::stop_gradient(chosen);
  const mx::array r = mx::stop_gradient(rejected);
  const mx::array d = mx::stop_gradient(difference);
  return {mx::sum(losses),
          mx::array(static_cast<float>(chosen.shape(0))),
          mx::sum(c),
          mx::sum(r),
          mx::sum(d),
          mx::sum(mx::astype(mx::greater(d, mx::array(0.0f)), mx::float32))};
}

LossFn reward_loss(const models::ModelArgs& args,
                   const nn::ForwardContext& forward,
                   const RewardLossOptions& options) {
  return [args, forward, options](const Params& weights,
                                  const std::vector<mx::array>& batch,
                                  const mx::array& dropout_key) {
    nn::ForwardContext ctx = forward;
    ctx.dropout_key = dropout_key;
    const mx::array& tokens = batch[0];
    const mx::array& last = batch[1];
    const mx::array& margin = batch[2];
    const int B = margin.shape(0);
    const mx::array rewards = // (2B,)
        models::sequence_scores(args, weights, tokens, last, ctx);
    return reward_loss_sums(mx::slice(rewards, {0}, {B}),
                            mx::slice(rewards, {B}, {2 * B}),
                            margin,
                            options);
  };
}

} // namespace mlxt::train

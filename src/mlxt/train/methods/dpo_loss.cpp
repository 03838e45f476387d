#include "mlxt/train/methods/dpo_loss.h"

#include "mlxt/core/error.h"
#include "mlxt/train/loss.h"
#include "mlxt/train/methods/pair_batches.h"

namespace mlxt::train {

namespace {

using config::DpoLossType;

mx::array scalar(double v) {
  return mx::array(static_cast<float>(v));
}

// -(1 - ls) log sig(m) - ls log sig(-m): the conservative sigmoid loss.
mx::array smoothed_sigmoid_loss(const mx::array& m, double ls) {
  return mx::negative(
      mx::add(mx::multiply(scalar(1.0 - ls), log_sigmoid(m)),
              mx::multiply(scalar(ls), log_sigmoid(mx::negative(m)))));
}

// log(1 - e^x) for x < 0, as log(-expm1(x)): exact near x = 0, where
// log1p(-exp(x)) loses the digits.
mx::array log1m_exp(const mx::array& x) {
  return mx::log(mx::negative(mx::expm1(x)));
}

} // namespace

bool needs_reference(DpoLossType type) {
  return type != DpoLossType::simpo && type != DpoLossType::orpo;
}

bool averages_log_probs(DpoLossType type) {
  return type == DpoLossType::ipo || type == DpoLossType::simpo ||
         type == DpoLossType::orpo;
}

std::vector<std::string> dpo_metric_names(DpoLossType type) {
  std::vector<std::string> names = pair_metric_names();
  if (type == DpoLossType::orpo) {
    names.insert(names.end(), {"nll_loss", "log_odds_ratio"});
  }
  return names;
}

std::vector<mx::array> dpo_loss_sums(const PairValues& policy,
                                     const std::optional<PairValues>& reference,
                                     const PairValues& lengths,
                                     const DpoLossOptions& options) {
  if (reference.has_value() != needs_reference(options.type)) {
    fail(ErrorCode::internal,
         "dpo loss '" + config::to_string(options.type) +
             (reference ? "' takes no reference log-probs"
                        : "' needs reference log-probs"));
  }
  const double beta = options.beta;
  const double ls = options.label_smoothing;
  const bool average = averages_log_probs(options.type);
  auto per_token = [average](const mx::array& lp, const mx::array& n) {
    return average ? mx::divide(lp, n) : lp;
  };
  const mx::array pi_c = per_token(policy.chosen, lengths.chosen);
  const mx::array pi_r = per_token(policy.rejected, lengths.rejected);
  // The implicit rewards' log-ratios: against the reference, or (reference-
  // free losses) the policy's own log-probs.
  mx::array chosen_ratio = pi_c;
  mx::array rejected_ratio = pi_r;
  if (reference) {
    chosen_ratio =
        mx::subtract(pi_c, per_token(reference->chosen, lengths.chosen));
    rejected_ratio =
        mx::subtract(pi_r, per_token(reference->rejected, lengths.rejected));
  }
  const mx::array h = mx::subtract(chosen_ratio, rejected_ratio); // (B,)
  const mx::array beta_h = mx::multiply(scalar(beta), h);
  const int B = policy.chosen.shape(0);
  std::vector<mx::array> extra; // orpo's metric sums
  mx::array losses = h;
  switch (options.type) {
  case DpoLossType::sigmoid:
    losses = smoothed_sigmoid_loss(beta_h, ls);
    break;
  case DpoLossType::robust:
    losses = mx::divide(
        mx::add(mx::multiply(scalar(-(1.0 - ls)), log_sigmoid(beta_h)),
                mx::multiply(scalar(ls), log_sigmoid(mx::negative(beta_h)))),
        scalar(1.0 - 2.0 * ls));
    break;
  case DpoLossType::ipo:
    losses = mx::square(mx::subtract(h, scalar(1.0 / (2.0 * beta))));
    break;
  case DpoLossType::hinge:
    losses = mx::maximum(mx::subtract(scalar(1.0), beta_h), scalar(0.0));
    break;
  case DpoLossType::simpo:
    losses = smoothed_sigmoid_loss(
        mx::subtract(beta_h, scalar(options.simpo_gamma)), ls);
    break;
  case DpoLossType::orpo: {
    const mx::array log_odds =
        mx::subtract(h, mx::subtract(log1m_exp(pi_c), log1m_exp(pi_r)));
    const mx::array ratio = log_sigmoid(log_odds); // (B,)
    // The batch's token-mean NLL of the chosen answers, once per pair so
    // that the sum over pairs divided by B gives NLL + mean odds term.
    const mx::array nll = mx::divide(mx::negative(mx::sum(policy.chosen)),
                                     mx::sum(lengths.chosen));
    losses = mx::subtract(nll, mx::multiply(scalar(beta), ratio));
    extra = {mx::multiply(scalar(B), mx::stop_gradient(nll)),
             mx::sum(mx::stop_gradient(ratio))};
    break;
  }
  }
  // Rewards are reported, never trained.
  const mx::array rewards_chosen =
      mx::multiply(scalar(beta), mx::stop_gradient(chosen_ratio));
  const mx::array rewards_rejected =
      mx::multiply(scalar(beta), mx::stop_gradient(rejected_ratio));
  const mx::array margin = mx::subtract(rewards_chosen, rewards_rejected);
  std::vector<mx::array> out = {
      mx::sum(losses),
      scalar(B),
      mx::sum(rewards_chosen),
      mx::sum(rewards_rejected),
      mx::sum(margin),
      mx::sum(mx::astype(mx::greater(margin, scalar(0.0)), mx::float32))};
  out.insert(out.end(), extra.begin(), extra.end());
  return out;
}

} // namespace mlxt::train

// The optimizer and schedule tables. Each row declares its parameters once;
// validation, building and the JSON description all read these rows.
#include "mlxt/optim/catalogue.h"

namespace mlxt::optim {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

ParamSpec number(std::string name,
                 double default_value,
                 double min,
                 double max,
                 bool max_inclusive,
                 std::string help) {
  return {.name = std::move(name),
          .type = ParamType::number,
          .default_value = default_value,
          .min = min,
          .max = max,
          .max_inclusive = max_inclusive,
          .help = std::move(help)};
}

// A coefficient in [0, 1).
ParamSpec beta(std::string name, double default_value, std::string help) {
  return number(std::move(name), default_value, 0.0, 1.0, false, help);
}

// A finite value > 0.
ParamSpec positive(std::string name, double default_value, std::string help) {
  auto spec = number(std::move(name), default_value, 0.0, kInf, false, help);
  spec.min_inclusive = false;
  return spec;
}

// A finite value >= 0.
ParamSpec
non_negative(std::string name, double default_value, std::string help) {
  return number(std::move(name), default_value, 0.0, kInf, false, help);
}

ParamSpec boolean(std::string name, bool default_value, std::string help) {
  return {.name = std::move(name),
          .type = ParamType::boolean,
          .default_value = default_value,
          .help = std::move(help)};
}

ParamSpec required_number(std::string name, std::string help) {
  return {.name = std::move(name),
          .type = ParamType::number,
          .default_value = nullptr,
          .min = -kInf,
          .max = kInf,
          .max_inclusive = false,
          .help = std::move(help)};
}

ParamSpec steps(std::string name, std::string help) {
  return {.name = std::move(name),
          .type = ParamType::integer,
          .default_value = nullptr,
          .min = 1,
          .max = std::numeric_limits<int>::max(),
          .help = std::move(help)};
}

float f(const ParamValues& v, const char* key) {
  return v.at(key).get<float>();
}

int i(const ParamValues& v, const char* key) {
  return v.at(key).get<int>();
}

bool b(const ParamValues& v, const char* key) {
  return v.at(key).get<bool>();
}

std::vector<OptimizerSpec> build_optimizer_specs() {
  return {
      {"adamw",
       "Loshchilov & Hutter 2019, Decoupled Weight Decay Regularization",
       "w <- w(1 - lr wd); m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; "
       "w <- w - lr m / (sqrt(v) + eps) (bias-corrected when asked)",
       {beta("beta1", 0.9, "first-moment decay"),
        beta("beta2", 0.999, "second-moment decay"),
        non_negative("eps", 1e-8, "added to sqrt(v)"),
        non_negative("weight_decay", 0.01, "decoupled weight decay"),
        boolean("bias_correction", false, "Adam's bias correction")},
       [](const ParamValues& v, Schedule lr) {
         return make_adamw({.learning_rate = std::move(lr),
                            .beta1 = f(v, "beta1"),
                            .beta2 = f(v, "beta2"),
                            .eps = f(v, "eps"),
                            .weight_decay = f(v, "weight_decay"),
                            .bias_correction = b(v, "bias_correction")});
       }},
      {"sgd",
       "Polyak 1964 (momentum); Sutskever et al. 2013 (Nesterov form)",
       "g <- g + wd w; v = mu v + (1-tau) g; u = g + mu v if nesterov else v; "
       "w <- w - lr u",
       {non_negative("momentum", 0.0, "mu; 0 disables the velocity"),
        non_negative("weight_decay", 0.0, "L2 decay added to the gradient"),
        number("dampening", 0.0, 0.0, 1.0, true, "tau"),
        boolean("nesterov", false, "needs momentum > 0 and dampening 0")},
       [](const ParamValues& v, Schedule lr) {
         return make_sgd({.learning_rate = std::move(lr),
                          .momentum = f(v, "momentum"),
                          .weight_decay = f(v, "weight_decay"),
                          .dampening = f(v, "dampening"),
                          .nesterov = b(v, "nesterov")});
       }},
      {"lion",
       "Chen et al. 2023, Symbolic Discovery of Optimization Algorithms",
       "c = b1 m + (1-b1) g; m <- b2 m + (1-b2) g; "
       "w <- w(1 - lr wd) - lr sign(c)",
       {beta("beta1", 0.9, "interpolation for the update's sign"),
        beta("beta2", 0.99, "momentum decay"),
        non_negative("weight_decay", 0.0, "decoupled weight decay")},
       [](const ParamValues& v, Schedule lr) {
         return make_lion({.learning_rate = std::move(lr),
                           .beta1 = f(v, "beta1"),
                           .beta2 = f(v, "beta2"),
                           .weight_decay = f(v, "weight_decay")});
       }},
      {"adafactor",
       "Shazeer & Stern 2018, Adafactor: Adaptive Learning Rates with "
       "Sublinear Memory Cost",
       "factored (row, column) second moments of g^2 + eps1 for ndim >= 2, "
       "beta2 = 1 - t^decay_rate; u = g / sqrt(v_hat) clipped to RMS "
       "clip_threshold; step alpha = max(eps2, RMS(w)) rho",
       {boolean("relative_step",
                false,
                "ignore the learning-rate schedule and use rho = min(1e-2, "
                "1/sqrt(t)) (MLX's default; off here so the configured "
                "learning rate applies)"),
        positive("eps1", 1e-30, "added to g^2"),
        non_negative("eps2", 1e-3, "floor of RMS(w)"),
        positive("clip_threshold", 1.0, "cap on RMS(u)"),
        number("decay_rate", -0.8, -1.0, 0.0, false, "beta2 = 1 - t^this"),
        beta("beta1", 0.0, "first moment of the update; 0 disables it"),
        non_negative("weight_decay", 0.0, "w <- w - wd alpha w"),
        boolean("scale_parameter", true, "scale the step by RMS(w)"),
        boolean("warmup_init", false, "rho = min(1e-6 t, 1/sqrt(t))")},
       [](const ParamValues& v, Schedule lr) {
         return make_adafactor(
             {.learning_rate = b(v, "relative_step") ? Schedule{} : lr,
              .eps1 = f(v, "eps1"),
              .eps2 = f(v, "eps2"),
              .clip_threshold = f(v, "clip_threshold"),
              .decay_rate = f(v, "decay_rate"),
              .beta1 = f(v, "beta1"),
              .weight_decay = f(v, "weight_decay"),
              .scale_parameter = b(v, "scale_parameter"),
              .warmup_init = b(v, "warmup_init")});
       }},
      {"lamb",
       "You et al. 2020, Large Batch Optimization for Deep Learning: "
       "Training BERT in 76 minutes",
       "u = m_hat / (sqrt(v_hat) + eps) + wd w; "
       "w <- w - lr (||w|| / ||u||) u per tensor",
       {beta("beta1", 0.9, "first-moment decay"),
        beta("beta2", 0.999, "second-moment decay"),
        non_negative("eps", 1e-6, "added to sqrt(v_hat)"),
        non_negative("weight_decay", 0.01, "added to the update")},
       [](const ParamValues& v, Schedule lr) {
         return make_lamb({.learning_rate = std::move(lr),
                           .beta1 = f(v, "beta1"),
                           .beta2 = f(v, "beta2"),
                           .eps = f(v, "eps"),
                           .weight_decay = f(v, "weight_decay")});
       }},
      {"novograd",
       "Ginsburg et al. 2019, Stochastic Gradient Methods with Layer-wise "
       "Adaptive Moments for Training of Deep Networks",
       "v = b2 v + (1-b2) ||g||^2 per tensor (||g||^2 at first); "
       "m = b1 m + (g / (sqrt(v) + eps) + wd w); w <- w - lr m",
       {beta("beta1", 0.95, "momentum"),
        beta("beta2", 0.98, "decay of the per-tensor second moment"),
        non_negative("eps", 1e-8, "added to sqrt(v)"),
        non_negative("weight_decay", 0.0, "added to the normalised gradient")},
       [](const ParamValues& v, Schedule lr) {
         return make_novograd({.learning_rate = std::move(lr),
                               .beta1 = f(v, "beta1"),
                               .beta2 = f(v, "beta2"),
                               .eps = f(v, "eps"),
                               .weight_decay = f(v, "weight_decay")});
       }},
  };
}

std::vector<ScheduleSpec> build_schedule_specs() {
  return {
      {"constant",
       "value",
       {required_number("value", "the learning rate")},
       [](const ParamValues& v) { return constant_schedule(f(v, "value")); }},
      {"linear_schedule",
       "init + min(step, steps) (end - init) / steps",
       {required_number("init", "value at step 0"),
        required_number("end", "value from `steps` on"),
        steps("steps", "length of the ramp")},
       [](const ParamValues& v) {
         return linear_schedule(f(v, "init"), f(v, "end"), i(v, "steps"));
       }},
      {"cosine_decay",
       "end + 0.5 (1 + cos(pi min(step, steps) / steps)) (init - end)",
       {required_number("init", "value at step 0"),
        steps("steps", "length of the decay"),
        number("end", 0.0, -kInf, kInf, false, "final value")},
       [](const ParamValues& v) {
         return cosine_decay(f(v, "init"), i(v, "steps"), f(v, "end"));
       }},
      {"exponential_decay",
       "init rate^step",
       {required_number("init", "value at step 0"),
        non_negative("rate", 0.99, "factor per step")},
       [](const ParamValues& v) {
         return exponential_decay(f(v, "init"), f(v, "rate"));
       }},
      {"step_decay",
       "init rate^floor(step / step_size)",
       {required_number("init", "value at step 0"),
        non_negative("rate", 0.5, "factor per `step_size` steps"),
        steps("step_size", "steps between decays")},
       [](const ParamValues& v) {
         return step_decay(f(v, "init"), f(v, "rate"), i(v, "step_size"));
       }},
      {"polynomial_decay",
       "end + (init - end) (1 - min(step, steps) / steps)^power",
       {required_number("init", "value at step 0"),
        required_number("end", "value from `steps` on"),
        steps("steps", "length of the decay"),
        positive("power", 1.0, "exponent")},
       [](const ParamValues& v) {
         return polynomial_decay(
             f(v, "init"), f(v, "end"), i(v, "steps"), f(v, "power"));
       }},
  };
}

} // namespace

const std::vector<OptimizerSpec>& optimizer_specs() {
  static const auto specs = build_optimizer_specs();
  return specs;
}

const std::vector<ScheduleSpec>& schedule_specs() {
  static const auto specs = build_schedule_specs();
  return specs;
}

} // namespace mlxt::optim

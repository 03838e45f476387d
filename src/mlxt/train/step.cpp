#include "mlxt/train/step.h"

#include <numeric>

#include "mlxt/core/error.h"

namespace mlxt::train {

std::vector<mx::array> TrainState::arrays() const {
  std::vector<mx::array> out;
  for (const auto* group : {&trainable, &optimizer_state, &grad_accum}) {
    out.insert(out.end(), group->begin(), group->end());
  }
  out.push_back(step);
  out.push_back(key);
  out.push_back(accum_tokens);
  return out;
}

TrainStep::TrainStep(StepOptions options, const optim::Optimizer& optimizer)
    : options_(std::move(options)), optimizer_(optimizer) {
  if (!options_.loss) {
    fail(ErrorCode::internal, "a training step needs a loss function");
  }
  accumulate_fn_ = mx::compile(build(false, true));
  update_fn_ = mx::compile(build(true, false));
  update_with_accum_fn_ = mx::compile(build(true, true));
}

Params TrainStep::weights(const std::vector<mx::array>& trainable,
                          const std::vector<mx::array>& frozen) const {
  Params w = zip_params(options_.frozen_names, frozen);
  for (size_t i = 0; i < trainable.size(); ++i) {
    w.insert_or_assign(options_.trainable_names[i], trainable[i]);
  }
  return w;
}

// Input layout: trainable (nt), optimizer state (ns, update only), frozen
// (nf), grad accumulator (nt, if has_accum), step, key, accum_tokens, then
// the method's batch arrays (nb).
// Output layout: accumulate -> accum (nt), key, accum_tokens, loss, count,
// metrics; update -> trainable (nt), state (ns), step, key, loss, count,
// grad_norm, applied, metrics.
TrainStep::Fn TrainStep::build(bool do_update, bool has_accum) const {
  const size_t nt = options_.trainable_names.size();
  const size_t nf = options_.frozen_names.size();
  const size_t nb = options_.batch_arrays;
  return [this, do_update, has_accum, nt, nf, nb](
             const std::vector<mx::array>& in) {
    size_t at = 0;
    auto take = [&](size_t n) {
      std::vector<mx::array> part(in.begin() + at, in.begin() + at + n);
      at += n;
      return part;
    };
    std::vector<mx::array> trainable = take(nt);
    std::vector<mx::array> state;
    if (do_update) {
      state = take(in.size() - nt - nf - (has_accum ? nt : 0) - 3 - nb);
    }
    std::vector<mx::array> frozen = take(nf);
    std::vector<mx::array> accum =
        has_accum ? take(nt) : std::vector<mx::array>{};
    const mx::array& step = in[at];
    auto [key, dropout_key] = mx::random::split(in[at + 1]);
    const mx::array& accum_tokens = in[at + 2];
    at += 3;
    const std::vector<mx::array> batch = take(nb);

    auto loss_fn = [&](const std::vector<mx::array>& params) {
      return options_.loss(weights(params, frozen), batch, dropout_key);
    };
    std::vector<int> argnums(nt);
    std::iota(argnums.begin(), argnums.end(), 0);
    // The first output is differentiated; the count and metrics ride along.
    auto [values, grads] = mx::value_and_grad(loss_fn, argnums)(trainable);
    const std::vector<mx::array> metrics(values.begin() + 2, values.end());
    if (has_accum) {
      for (size_t i = 0; i < nt; ++i) {
        grads[i] = mx::add(accum[i], grads[i]);
      }
    }
    mx::array total_tokens = mx::add(accum_tokens, values[1]);
    std::vector<mx::array> out;
    if (!do_update) {
      out = grads;
      out.insert(out.end(), {key, total_tokens, values[0], values[1]});
      out.insert(out.end(), metrics.begin(), metrics.end());
      return out;
    }
    // Count-weighted mean gradient over the step's micro-batches.
    mx::array scale =
        mx::divide(mx::array(1.0f), mx::maximum(total_tokens, mx::array(1.0f)));
    for (auto& g : grads) {
      g = mx::multiply(g, mx::astype(scale, g.dtype()));
    }
    mx::array grad_norm = optim::global_norm(grads);
    if (options_.max_grad_norm) {
      grads = optim::clip_grad_norm(grads, *options_.max_grad_norm).first;
    }
    auto [new_params, new_state] =
        optimizer_.update(trainable, grads, state, step);
    // The non-finite guard: a NaN/Inf loss or gradient leaves the weights,
    // the optimizer state and the update counter as they were.
    mx::array applied =
        mx::logical_and(mx::isfinite(values[0]), mx::isfinite(grad_norm));
    for (size_t i = 0; i < nt; ++i) {
      out.push_back(mx::where(applied, new_params[i], trainable[i]));
    }
    for (size_t i = 0; i < new_state.size(); ++i) {
      out.push_back(mx::where(applied, new_state[i], state[i]));
    }
    out.insert(out.end(),
               {mx::add(step, mx::astype(applied, step.dtype())),
                key,
                values[0],
                values[1],
                grad_norm,
                applied});
    out.insert(out.end(), metrics.begin(), metrics.end());
    return out;
  };
}

std::vector<mx::array> TrainStep::inputs(const TrainState& state,
                                         const std::vector<mx::array>& batch,
                                         bool with_optimizer_state) const {
  if (batch.size() != size_t(options_.batch_arrays)) {
    fail(ErrorCode::internal,
         "a step expecting " + std::to_string(options_.batch_arrays) +
             " batch arrays got " + std::to_string(batch.size()));
  }
  std::vector<mx::array> in = state.trainable;
  auto append = [&in](const std::vector<mx::array>& part) {
    in.insert(in.end(), part.begin(), part.end());
  };
  if (with_optimizer_state) {
    append(state.optimizer_state);
  }
  append(state.frozen);
  append(state.grad_accum);
  append({state.step, state.key, state.accum_tokens});
  append(batch);
  return in;
}

StepResult TrainStep::accumulate(TrainState& state,
                                 const std::vector<mx::array>& batch) {
  if (state.grad_accum.empty()) {
    for (const auto& p : state.trainable) {
      state.grad_accum.push_back(mx::zeros_like(p));
    }
  }
  std::vector<mx::array> out = accumulate_fn_(inputs(state, batch, false));
  const size_t nt = state.trainable.size();
  state.grad_accum.assign(out.begin(), out.begin() + nt);
  state.key = out[nt];
  state.accum_tokens = out[nt + 1];
  return {out[nt + 2],
          out[nt + 3],
          {out.begin() + nt + 4, out.end()},
          std::nullopt,
          std::nullopt};
}

StepResult TrainStep::update(TrainState& state,
                             const std::vector<mx::array>& batch) {
  const bool has_accum = !state.grad_accum.empty();
  std::vector<mx::array> out = (has_accum ? update_with_accum_fn_ : update_fn_)(
      inputs(state, batch, true));
  const size_t nt = state.trainable.size();
  const size_t ns = state.optimizer_state.size();
  state.trainable.assign(out.begin(), out.begin() + nt);
  state.optimizer_state.assign(out.begin() + nt, out.begin() + nt + ns);
  state.step = out[nt + ns];
  state.key = out[nt + ns + 1];
  state.grad_accum.clear();
  state.accum_tokens = mx::array(0.0f);
  const size_t r = nt + ns + 2;
  return {out[r],
          out[r + 1],
          {out.begin() + r + 4, out.end()},
          out[r + 2],
          out[r + 3]};
}

} // namespace mlxt::train

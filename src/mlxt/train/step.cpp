#include "mlxt/train/step.h"

#include "mlxt/core/error.h"
#include "mlxt/models/transformer.h"
#include "mlxt/train/loss.h"

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
// (nf), grad accumulator (nt, if has_accum), step, key, accum_tokens, inputs,
// targets, mask, and when packed: attention mask, positions.
// Output layout: accumulate -> accum (nt), key, accum_tokens, loss, tokens;
// update -> trainable (nt), state (ns), step, key, loss, tokens, grad_norm,
// applied.
TrainStep::Fn TrainStep::build(bool do_update, bool has_accum) const {
  const size_t nt = options_.trainable_names.size();
  const size_t nf = options_.frozen_names.size();
  return [this, do_update, has_accum, nt, nf](
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
      state = take(in.size() - nt - nf - (has_accum ? nt : 0) - 6 -
                   (options_.packed ? 2 : 0));
    }
    std::vector<mx::array> frozen = take(nf);
    std::vector<mx::array> accum =
        has_accum ? take(nt) : std::vector<mx::array>{};
    const mx::array& step = in[at];
    auto [key, dropout_key] = mx::random::split(in[at + 1]);
    const mx::array& accum_tokens = in[at + 2];
    const mx::array& inputs = in[at + 3];
    const mx::array& targets = in[at + 4];
    const mx::array& mask = in[at + 5];

    auto loss_fn = [&](const std::vector<mx::array>& params) {
      nn::ForwardContext ctx = options_.forward;
      ctx.dropout_key = dropout_key;
      if (options_.packed) {
        ctx.attention_mask = in[at + 6];
        ctx.positions = in[at + 7];
      }
      Params w = weights(params, frozen);
      mx::array hidden = models::forward_hidden(options_.args, w, inputs, ctx);
      return std::vector<mx::array>{
          chunked_lm_loss_sum(options_.args,
                              w,
                              hidden,
                              targets,
                              mask,
                              ctx,
                              options_.loss_chunk_rows)};
    };
    std::vector<int> argnums(nt);
    std::iota(argnums.begin(), argnums.end(), 0);
    auto [values, grads] = mx::value_and_grad(loss_fn, argnums)(trainable);
    mx::array tokens = mx::sum(mask);
    if (has_accum) {
      for (size_t i = 0; i < nt; ++i) {
        grads[i] = mx::add(accum[i], grads[i]);
      }
    }
    mx::array total_tokens = mx::add(accum_tokens, tokens);
    std::vector<mx::array> out;
    if (!do_update) {
      out = grads;
      out.push_back(key);
      out.push_back(total_tokens);
      out.push_back(values[0]);
      out.push_back(tokens);
      return out;
    }
    // Token-weighted mean gradient over the step's micro-batches.
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
    out.push_back(mx::add(step, mx::astype(applied, step.dtype())));
    out.push_back(key);
    out.push_back(values[0]);
    out.push_back(tokens);
    out.push_back(grad_norm);
    out.push_back(applied);
    return out;
  };
}

namespace {

void append(std::vector<mx::array>& out, const std::vector<mx::array>& part) {
  out.insert(out.end(), part.begin(), part.end());
}

void append_packing(std::vector<mx::array>& in,
                    const data::Batch& batch,
                    bool packed) {
  if (packed) {
    if (!batch.attention_mask || !batch.positions) {
      fail(ErrorCode::internal, "a packed step got an unpacked batch");
    }
    append(in, {*batch.attention_mask, *batch.positions});
  }
}

} // namespace

StepResult TrainStep::accumulate(TrainState& state, const data::Batch& batch) {
  if (state.grad_accum.empty()) {
    for (const auto& p : state.trainable) {
      state.grad_accum.push_back(mx::zeros_like(p));
    }
  }
  std::vector<mx::array> in = state.trainable;
  append(in, state.frozen);
  append(in, state.grad_accum);
  append(in,
         {state.step,
          state.key,
          state.accum_tokens,
          batch.inputs,
          batch.targets,
          batch.mask});
  append_packing(in, batch, options_.packed);
  std::vector<mx::array> out = accumulate_fn_(in);
  const size_t nt = state.trainable.size();
  state.grad_accum.assign(out.begin(), out.begin() + nt);
  state.key = out[nt];
  state.accum_tokens = out[nt + 1];
  return {out[nt + 2], out[nt + 3], std::nullopt, std::nullopt};
}

StepResult TrainStep::update(TrainState& state, const data::Batch& batch) {
  const bool has_accum = !state.grad_accum.empty();
  std::vector<mx::array> in = state.trainable;
  append(in, state.optimizer_state);
  append(in, state.frozen);
  if (has_accum) {
    append(in, state.grad_accum);
  }
  append(in,
         {state.step,
          state.key,
          state.accum_tokens,
          batch.inputs,
          batch.targets,
          batch.mask});
  append_packing(in, batch, options_.packed);
  std::vector<mx::array> out =
      (has_accum ? update_with_accum_fn_ : update_fn_)(in);
  const size_t nt = state.trainable.size();
  const size_t ns = state.optimizer_state.size();
  state.trainable.assign(out.begin(), out.begin() + nt);
  state.optimizer_state.assign(out.begin() + nt, out.begin() + nt + ns);
  state.step = out[nt + ns];
  state.key = out[nt + ns + 1];
  state.grad_accum.clear();
  state.accum_tokens = mx::array(0.0f);
  return {
      out[nt + ns + 2], out[nt + ns + 3], out[nt + ns + 4], out[nt + ns + 5]};
}

} // namespace mlxt::train

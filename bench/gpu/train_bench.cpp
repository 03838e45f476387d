// Training-throughput benchmark on the headline workloads of
// ../shared/BENCHMARKS.md, measured the way the HF+PEFT peer script measures
// them: random-init model, random tokens, AdamW lr 1e-4, median step time of
// `steps` after `warmup` steps, each step synchronised.
//
// Usage: train_bench --shape llama1b|qwen05b --mode lora|full --batch B
//          --seq T [--steps 12] [--warmup 3] [--grad-checkpoint]
//          [--master-fp32]
// Prints one JSON line: tokens/s, step time, peak memory, model TFLOP/s.
#include <algorithm>
#include <chrono>
#include <functional>
#include <iostream>
#include <numeric>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "mlxt/core/error.h"
#include "mlxt/models/init.h"
#include "mlxt/models/transformer.h"
#include "mlxt/optim/optimizer.h"
#include "mlxt/train/loss.h"
#include "mlxt/train/methods/lm_loss.h"
#include "mlxt/train/step.h"
#include "mlxt/train/trainable.h"

namespace {

using namespace mlxt;

// Median seconds of `fn` (evaluated and synchronised) over `steps` runs
// after `warmup` runs.
double median_seconds(const std::function<std::vector<mx::array>()>& fn,
                      int warmup,
                      int steps) {
  std::vector<double> times;
  for (int i = 0; i < warmup + steps; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    mx::eval(fn());
    if (i >= warmup) {
      times.push_back(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
              .count());
    }
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}
using nlohmann::json;

// The shapes of BENCHMARKS.md (Llama-3.2-1B and Qwen2.5-0.5B, Llama blocks).
json shape_config(const std::string& shape) {
  if (shape == "llama1b") {
    return {{"model_type", "llama"},
            {"vocab_size", 128256},
            {"hidden_size", 2048},
            {"intermediate_size", 8192},
            {"num_hidden_layers", 16},
            {"num_attention_heads", 32},
            {"num_key_value_heads", 8},
            {"max_position_embeddings", 4096},
            {"rope_theta", 500000.0},
            {"tie_word_embeddings", true},
            {"rms_norm_eps", 1e-5}};
  }
  if (shape == "qwen05b") {
    return {{"model_type", "llama"},
            {"vocab_size", 151936},
            {"hidden_size", 896},
            {"intermediate_size", 4864},
            {"num_hidden_layers", 24},
            {"num_attention_heads", 14},
            {"num_key_value_heads", 2},
            {"max_position_embeddings", 4096},
            {"rope_theta", 1000000.0},
            {"tie_word_embeddings", true},
            {"rms_norm_eps", 1e-6}};
  }
  fail(ErrorCode::invalid_config,
       "unknown shape \"" + shape + "\"",
       {.key = "shape"});
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"mlx-train training-throughput benchmark"};
  std::string shape = "llama1b";
  std::string mode = "lora";
  int batch = 4, seq = 2048, steps = 12, warmup = 3;
  bool grad_checkpoint = false, master_fp32 = false, breakdown = false;
  app.add_option("--shape", shape);
  app.add_option("--mode", mode)->check(CLI::IsMember({"lora", "full"}));
  app.add_option("--batch", batch);
  app.add_option("--seq", seq);
  app.add_option("--steps", steps);
  app.add_option("--warmup", warmup);
  app.add_flag("--grad-checkpoint", grad_checkpoint);
  app.add_flag("--breakdown",
               breakdown,
               "Also time the compiled forward and forward+backward alone");
  app.add_flag("--master-fp32",
               master_fp32,
               "full: fp32 master weights (default: pure bf16 like the peer)");
  CLI11_PARSE(app, argc, argv);
  const auto fine_tune_type =
      config::parse_choice<config::FineTuneType>(mode).value();
  try {
    const mx::Dtype dtype = mx::bfloat16;
    models::Model model =
        models::init_model_from_config(shape_config(shape), 0, 0.02f, dtype);
    // The peer's LoRA: r=16, alpha=32 (scale 2) on all seven projections.
    train::LoraSpec lora{.rank = 16,
                         .scale = 2.0f,
                         .dropout = 0.0f,
                         .num_layers = -1,
                         .keys = {}};
    train::ParamSplit split =
        train::split_trainable(model,
                               {.fine_tune_type = fine_tune_type,
                                .compute_dtype = dtype,
                                .master_weights_fp32 = master_fp32,
                                .lora = lora});
    auto optimizer =
        optim::make_adamw({.learning_rate = optim::constant_schedule(1e-4f)});
    nn::ForwardContext forward;
    forward.compute_dtype = dtype;
    forward.lora_scale = lora.scale;
    forward.checkpoint_blocks = grad_checkpoint;
    train::TrainStep step({.trainable_names = param_names(split.trainable),
                           .frozen_names = param_names(split.frozen),
                           .loss = train::lm_loss(model.args, forward, false),
                           .batch_arrays = train::lm_batch_size(false)},
                          *optimizer);
    train::TrainState state;
    state.trainable = param_values(split.trainable);
    state.frozen = param_values(split.frozen);
    state.optimizer_state = optimizer->init_state(state.trainable);
    const size_t n_params = param_count(model.weights);
    const std::vector<std::string> trainable_names =
        param_names(split.trainable);
    const std::vector<std::string> frozen_names = param_names(split.frozen);
    model.weights.clear();
    split = {};
    mx::eval(state.arrays());

    // Like the peer (labels = inputs, shifted inside): T tokens in, T - 1
    // targets; every token is real (no padding).
    mx::array tokens = mx::random::randint(0,
                                           model.args.vocab_size,
                                           {batch, seq + 1},
                                           mx::int32,
                                           mx::random::key(1));
    data::Batch b{mx::slice(tokens, {0, 0}, {batch, seq}),
                  mx::slice(tokens, {0, 1}, {batch, seq + 1}),
                  mx::ones({batch, seq}, mx::float32),
                  long(batch) * seq,
                  long(batch) * seq};
    mx::eval({b.inputs, b.targets, b.mask});
    // How many distinct ids the random batch holds (a check on the data).
    std::vector<int32_t> ids(b.inputs.data<int32_t>(),
                             b.inputs.data<int32_t>() + b.inputs.size());
    std::sort(ids.begin(), ids.end());
    const long distinct = std::unique(ids.begin(), ids.end()) - ids.begin();
    json parts = json::object();
    if (breakdown) {
      // Where a step's time goes: the loss forward alone and forward+backward
      // (no optimizer), each compiled like the step.
      auto loss_of = [&](const std::vector<mx::array>& trainable) {
        Params w = zip_params(frozen_names, state.frozen);
        for (size_t i = 0; i < trainable.size(); ++i) {
          w.insert_or_assign(trainable_names[i], trainable[i]);
        }
        nn::ForwardContext ctx = forward;
        mx::array hidden = models::forward_hidden(model.args, w, b.inputs, ctx);
        return train::chunked_lm_loss_sum(
            model.args, w, hidden, b.targets, b.mask, ctx, 0);
      };
      auto fwd = mx::compile([&](const std::vector<mx::array>& in) {
        return std::vector<mx::array>{loss_of(in)};
      });
      std::vector<int> argnums(trainable_names.size());
      std::iota(argnums.begin(), argnums.end(), 0);
      auto fwd_bwd = mx::compile([&](const std::vector<mx::array>& in) {
        auto [value, grads] = mx::value_and_grad(
            [&](const std::vector<mx::array>& t) {
              return std::vector<mx::array>{loss_of(t)};
            },
            argnums)(in);
        grads.push_back(value[0]);
        return grads;
      });
      parts["forward_s"] =
          median_seconds([&] { return fwd(state.trainable); }, 2, 5);
      parts["forward_backward_s"] =
          median_seconds([&] { return fwd_bwd(state.trainable); }, 2, 5);
    }
    mx::reset_peak_memory();
    std::vector<double> times;
    float loss = 0.0f;
    float first_loss = 0.0f;
    for (int i = 0; i < warmup + steps; ++i) {
      auto t0 = std::chrono::steady_clock::now();
      train::StepResult r =
          step.update(state, train::lm_batch_arrays(b, false));
      std::vector<mx::array> outs = state.arrays();
      outs.push_back(r.loss_sum);
      mx::eval(outs);
      times.push_back(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
              .count());
      loss = r.loss_sum.item<float>() / float(b.target_tokens);
      if (i == 0) {
        first_loss = loss;
      }
    }
    std::vector<double> measured(times.begin() + warmup, times.end());
    std::sort(measured.begin(), measured.end());
    const double median = measured[measured.size() / 2];
    const double tok_s = double(batch) * seq / median;
    // The peer's FLOP model: (6 or 4) N per token plus 12 L H S for attention.
    const double flops_per_token =
        (fine_tune_type == config::FineTuneType::full ? 6.0 : 4.0) *
            double(n_params) +
        12.0 * model.args.num_hidden_layers * model.args.hidden_size *
            double(seq);
    json out = {
        {"model", shape},
        {"mode", mode},
        {"bs", batch},
        {"seq", seq},
        {"ckpt", grad_checkpoint},
        {"master_fp32", master_fp32},
        {"params", n_params},
        {"step_s", median},
        {"step_min_s", measured.front()},
        {"step_max_s", measured.back()},
        {"tok_s", tok_s},
        {"tflops", flops_per_token * tok_s / 1e12},
        {"peak_gib", double(mx::get_peak_memory()) / double(1ULL << 30)},
        {"distinct_tokens", distinct},
        {"first_loss", first_loss},
        {"loss", loss},
        {"device", mx::default_device() == mx::Device::gpu ? "gpu" : "cpu"}};
    out.update(parts);
    std::cout << out.dump() << std::endl;
  } catch (const std::exception& e) {
    std::cerr << "train_bench: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

// DPO against TRL's DPOTrainer on the same weights and the same token ids
// (bench/peers/trl_dpo_bench.py writes both and runs the peer).
//
//   dpo_bench --model DIR --pairs PAIRS.json --mode eval|time
//             [--adapters DIR] [--rank 16] [--scale 2] [--dtype f32|bf16]
//             [--beta 0.1] [--batch 4] [--steps 12] [--warmup 3]
//
// PAIRS.json: [{"prompt_ids": [...], "chosen_ids": [...], "rejected_ids":
// [...]}, ...]; a pair's sequence is prompt + completion, its targets the
// completion's tokens, as TRL's collator builds them.
// eval: the DPO loss and metrics over the first --batch pairs with the
// model's weights plus the LoRA adapters of --adapters (mlx-lm layout), the
// reference being the base without them (TRL's PEFT default).
// time: --warmup + --steps AdamW (lr 1e-4) updates of fresh LoRA adapters
// on that batch through the compiled training step; the median step time,
// tokens/s (every token of the 2 x batch sequences) and peak memory.
// Prints one JSON line.
#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "mlxt/core/error.h"
#include "mlxt/data/batching.h"
#include "mlxt/models/model.h"
#include "mlxt/optim/optimizer.h"
#include "mlxt/train/methods/dpo_loss.h"
#include "mlxt/train/step.h"
#include "mlxt/train/trainable.h"

namespace {

using namespace mlxt;
using nlohmann::json;

struct Pairs {
  std::vector<data::Example> chosen;
  std::vector<data::Example> rejected;
  long tokens = 0; // every token of every sequence
};

data::Example sequence(const json& prompt, const json& completion) {
  data::Example e;
  for (int id : prompt) {
    e.tokens.push_back(id);
    e.loss_mask.push_back(0);
  }
  for (int id : completion) {
    e.tokens.push_back(id);
    e.loss_mask.push_back(1);
  }
  return e;
}

Pairs read_pairs(const std::string& file, int count) {
  std::ifstream in(file);
  const json all = json::parse(in);
  if (static_cast<int>(all.size()) < count) {
    fail(ErrorCode::invalid_data, "fewer pairs than --batch", {.file = file});
  }
  Pairs p;
  for (int i = 0; i < count; ++i) {
    const json& row = all[i];
    p.chosen.push_back(sequence(row["prompt_ids"], row["chosen_ids"]));
    p.rejected.push_back(sequence(row["prompt_ids"], row["rejected_ids"]));
    p.tokens +=
        long(p.chosen.back().tokens.size() + p.rejected.back().tokens.size());
  }
  return p;
}

std::vector<mx::array> batch_arrays(const Pairs& p) {
  std::vector<const data::Example*> c;
  std::vector<const data::Example*> r;
  for (size_t i = 0; i < p.chosen.size(); ++i) {
    c.push_back(&p.chosen[i]);
    r.push_back(&p.rejected[i]);
  }
  const data::BatchOptions options{.batch_size = static_cast<int>(c.size()),
                                   .pad_multiple = data::default_pad_multiple(),
                                   .max_seq_length = 1 << 20};
  const data::Batch cb = data::make_batch(c, options);
  const data::Batch rb = data::make_batch(r, options);
  return {cb.inputs, cb.targets, cb.mask, rb.inputs, rb.targets, rb.mask};
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"mlx-train DPO benchmark and TRL parity check"};
  std::string model_dir, pairs_file, mode = "eval", adapters,
                                     dtype_name = "f32";
  int rank = 16, batch = 4, steps = 12, warmup = 3;
  float scale = 2.0f;
  double beta = 0.1;
  app.add_option("--model", model_dir)->required();
  app.add_option("--pairs", pairs_file)->required();
  app.add_option("--mode", mode)->check(CLI::IsMember({"eval", "time"}));
  app.add_option("--adapters", adapters);
  app.add_option("--dtype", dtype_name)->check(CLI::IsMember({"f32", "bf16"}));
  app.add_option("--rank", rank);
  app.add_option("--scale", scale);
  app.add_option("--beta", beta);
  app.add_option("--batch", batch);
  app.add_option("--steps", steps);
  app.add_option("--warmup", warmup);
  CLI11_PARSE(app, argc, argv);
  try {
    const mx::Dtype dtype = dtype_name == "bf16" ? mx::bfloat16 : mx::float32;
    models::Model model = models::load_model(model_dir);
    const train::LoraSpec lora{
        .rank = rank, .scale = scale, .dropout = 0.0f, .num_layers = -1};
    train::ParamSplit split =
        train::split_trainable(model,
                               {.fine_tune_type = config::FineTuneType::lora,
                                .compute_dtype = dtype,
                                .lora = lora});
    if (!adapters.empty()) {
      for (auto& [name, value] :
           train::load_adapters(adapters, model.args, model.weights)) {
        split.trainable.insert_or_assign(name, value);
      }
    }
    nn::ForwardContext forward;
    forward.compute_dtype = dtype;
    forward.lora_scale = scale;
    const train::LossFn loss =
        train::dpo_loss(model.args, forward, {.beta = beta});
    const Pairs pairs = read_pairs(pairs_file, batch);
    const std::vector<mx::array> arrays = batch_arrays(pairs);
    const std::vector<std::string> metric_names = train::dpo_metric_names();
    json out = {
        {"mode", mode},
        {"pairs", batch},
        {"tokens_per_step", pairs.tokens},
        {"dtype", dtype_name},
        {"device", mx::default_device() == mx::Device::gpu ? "gpu" : "cpu"}};
    if (mode == "eval") {
      Params weights = split.frozen;
      for (const auto& [name, value] : split.trainable) {
        weights.insert_or_assign(name, value);
      }
      std::vector<mx::array> sums = loss(weights, arrays, mx::random::key(0));
      mx::eval(sums);
      const double count = sums[1].item<float>();
      out["loss"] = sums[0].item<float>() / count;
      for (size_t m = 0; m < metric_names.size(); ++m) {
        out[metric_names[m]] = sums[2 + m].item<float>() / count;
      }
      std::cout << out.dump() << std::endl;
      return 0;
    }
    auto optimizer =
        optim::make_adamw({.learning_rate = optim::constant_schedule(1e-4f)});
    train::TrainStep step({.trainable_names = param_names(split.trainable),
                           .frozen_names = param_names(split.frozen),
                           .loss = loss,
                           .batch_arrays = static_cast<int>(arrays.size())},
                          *optimizer);
    train::TrainState state;
    state.trainable = param_values(split.trainable);
    state.frozen = param_values(split.frozen);
    state.optimizer_state = optimizer->init_state(state.trainable);
    model.weights.clear();
    split = {};
    mx::eval(state.arrays());
    mx::eval(arrays);
    mx::reset_peak_memory();
    std::vector<double> times;
    std::vector<float> losses;
    for (int i = 0; i < warmup + steps; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      train::StepResult r = step.update(state, arrays);
      std::vector<mx::array> outs = state.arrays();
      outs.push_back(r.loss_sum);
      mx::eval(outs);
      times.push_back(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
              .count());
      losses.push_back(r.loss_sum.item<float>() / float(batch));
    }
    std::vector<double> measured(times.begin() + warmup, times.end());
    std::sort(measured.begin(), measured.end());
    const double median = measured[measured.size() / 2];
    out.update(
        {{"step_s", median},
         {"step_min_s", measured.front()},
         {"step_max_s", measured.back()},
         {"tok_s", double(pairs.tokens) / median},
         {"peak_gib", double(mx::get_peak_memory()) / double(1ULL << 30)},
         {"losses", losses}});
    std::cout << out.dump() << std::endl;
  } catch (const std::exception& e) {
    std::cerr << "dpo_bench: " << e.what() << "\n";
    return 1;
  }
}

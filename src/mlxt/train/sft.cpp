#include "mlxt/train/sft.h"

#include <chrono>
#include <ctime>
#include <iomanip>
#include <ostream>
#include <sstream>

#include "mlxt/core/atomic_file.h"
#include "mlxt/core/blas.h"
#include "mlxt/core/error.h"
#include "mlxt/data/sft_jsonl.h"
#include "mlxt/gguf/model_source.h"
#include "mlxt/models/model.h"
#include "mlxt/optim/optimizer.h"
#include "mlxt/train/artifacts.h"
#include "mlxt/train/evaluate.h"
#include "mlxt/train/metrics.h"
#include "mlxt/train/step.h"
#include "mlxt/train/trainable.h"

namespace mlxt::train {

namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

mx::Dtype parse_dtype(const std::string& name) {
  if (name == "bfloat16") {
    return mx::bfloat16;
  }
  if (name == "float16") {
    return mx::float16;
  }
  return mx::float32;
}

std::string default_run_id() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  std::ostringstream ss;
  ss << std::put_time(&tm, "%Y%m%d-%H%M%S");
  return ss.str();
}

optim::Schedule make_schedule(const TrainConfig& c) {
  const float lr = static_cast<float>(c.learning_rate);
  if (!c.lr_schedule) {
    return optim::constant_schedule(lr);
  }
  const LrSchedule& s = *c.lr_schedule;
  // mlx-lm's arguments: cosine_decay [init, decay_steps, end?],
  // linear_schedule [init, end, steps]; the first is the peak rate.
  const auto arg = [&](size_t i, double fallback) {
    return i < s.arguments.size() ? s.arguments[i] : fallback;
  };
  optim::Schedule schedule;
  if (s.name == "cosine_decay") {
    schedule = optim::cosine_decay(
        float(arg(0, lr)), int(arg(1, c.iters)), float(arg(2, 0.0)));
  } else if (s.name == "linear_schedule") {
    schedule = optim::linear_schedule(
        float(arg(0, lr)), float(arg(1, 0.0)), int(arg(2, c.iters)));
  } else if (s.name == "constant") {
    schedule = optim::constant_schedule(float(arg(0, lr)));
  } else {
    fail(ErrorCode::unsupported,
         "schedule \"" + s.name +
             "\" is not supported by the trainer yet "
             "(supported: constant, cosine_decay, linear_schedule)",
         {.key = "lr_schedule.name"});
  }
  if (s.warmup > 0) {
    schedule = optim::with_warmup(schedule, s.warmup, float(s.warmup_init));
  }
  return schedule;
}

LoraSpec lora_spec(const TrainConfig& c) {
  return LoraSpec{.rank = c.lora_parameters.rank,
                  .scale = c.lora_parameters.scale,
                  .dropout = c.lora_parameters.dropout,
                  .num_layers = c.num_layers,
                  .keys = c.lora_parameters.keys};
}

double peak_memory_gb() {
  return static_cast<double>(mx::get_peak_memory()) / 1e9;
}

} // namespace

SftResult run_sft(const TrainConfig& c, std::ostream& out) {
  const auto started = Clock::now();
  const fs::path model_dir = c.model;
  gguf::ModelWithTokenizer opened = gguf::open_model(model_dir);
  models::Model& model = opened.model;
  tokenizer::Tokenizer& tok = opened.tokenizer;
  data::EncodedDataset dataset = data::load_sft_jsonl(
      c.data,
      tok,
      {.mask_prompt = c.mask_prompt, .max_seq_length = c.max_seq_length});

  const mx::Dtype dtype = parse_dtype(c.compute_dtype);
  mx::random::seed(c.seed);
  ParamSplit split =
      split_trainable(model,
                      {.fine_tune_type = c.fine_tune_type,
                       .compute_dtype = dtype,
                       .master_weights_fp32 = c.master_weights_fp32,
                       .lora = lora_spec(c),
                       .seed = static_cast<uint64_t>(c.seed)});
  nlohmann::json resolved = c.to_json();

  SftResult result;
  const std::string run_id = c.run_id.empty() ? default_run_id() : c.run_id;
  result.run_dir = (fs::path(c.runs_dir) / run_id).string();
  result.output_dir = c.adapter_path;
  fs::create_directories(result.run_dir);
  write_file_atomic(fs::path(result.run_dir) / "config.json",
                    resolved.dump(2) + "\n");
  MetricsLog log(fs::path(result.run_dir) / "metrics.jsonl",
                 out,
                 c.progress_bar && stderr_is_terminal(),
                 c.iters);

  // Built once: the optimizer traces it and reports read it on the host.
  const optim::Schedule lr_schedule = make_schedule(c);
  auto optimizer = optim::make_adamw(
      {.learning_rate = lr_schedule,
       .beta1 = static_cast<float>(c.betas.at(0)),
       .beta2 = static_cast<float>(c.betas.at(1)),
       .eps = static_cast<float>(c.eps),
       .weight_decay =
           c.optimizer == "adamw" ? static_cast<float>(c.weight_decay) : 0.0f,
       .bias_correction = c.bias_correction});

  nn::ForwardContext forward;
  forward.compute_dtype = dtype;
  forward.lora_scale = c.lora_parameters.scale;
  forward.lora_dropout =
      c.fine_tune_type == "lora" ? c.lora_parameters.dropout : 0.0f;
  forward.checkpoint_blocks = c.grad_checkpoint;

  TrainStep step(StepOptions{.args = model.args,
                             .trainable_names = param_names(split.trainable),
                             .frozen_names = param_names(split.frozen),
                             .forward = forward,
                             .max_grad_norm = c.max_grad_norm
                                                  ? std::optional<float>(
                                                        float(*c.max_grad_norm))
                                                  : std::nullopt},
                 *optimizer);
  TrainState state;
  state.trainable = param_values(split.trainable);
  state.frozen = param_values(split.frozen);
  state.optimizer_state = optimizer->init_state(state.trainable);
  state.key = mx::random::key(c.seed);
  mx::eval(state.arrays());

  const data::BatchOptions batch_options{.batch_size = c.batch_size,
                                         .pad_multiple = 32,
                                         .max_seq_length = c.max_seq_length};
  data::BatchSchedule schedule(dataset.train.examples, batch_options, c.seed);
  Evaluator evaluator(model.args, forward);
  auto current_weights = [&] {
    Params w = split.frozen;
    for (const auto& [name, value] :
         zip_params(param_names(split.trainable), state.trainable)) {
      w.insert_or_assign(name, value);
    }
    return w;
  };
  auto evaluate_valid = [&](int at_step) -> std::optional<double> {
    if (!dataset.valid) {
      return std::nullopt;
    }
    auto t0 = Clock::now();
    EvalResult r = evaluator.run(current_weights(),
                                 dataset.valid->examples,
                                 batch_options,
                                 c.val_batches);
    log.record({{"event", "eval"},
                {"step", at_step},
                {"val_loss", r.loss},
                {"val_ppl", r.perplexity},
                {"val_tokens", r.tokens},
                {"seconds",
                 std::chrono::duration<double>(Clock::now() - t0).count()}});
    return r.loss;
  };
  auto save = [&](int at_step, bool final) {
    const fs::path dir = c.adapter_path;
    Params trained = zip_params(param_names(split.trainable), state.trainable);
    if (c.fine_tune_type == "full") {
      models::Model tuned{model.args, {}};
      for (const auto& [name, w] : trained) {
        // Saved in the checkpoint's original dtype.
        tuned.weights.insert_or_assign(
            name, mx::astype(w, param(model.weights, name).dtype()));
      }
      save_full_model(final ? dir : dir / ("step-" + std::to_string(at_step)),
                      tuned,
                      model_dir);
    } else {
      std::ostringstream name;
      name << std::setw(7) << std::setfill('0') << at_step
           << "_adapters.safetensors";
      save_adapters(dir,
                    trained,
                    lora_spec(c),
                    resolved,
                    final ? "adapters.safetensors" : name.str());
    }
    log.record({{"event", "save"}, {"step", at_step}, {"path", dir.string()}});
  };

  log.record(
      {{"event", "start"},
       {"run_id", run_id},
       {"fine_tune_type", c.fine_tune_type},
       {"trainable_parameters", param_count(split.trainable)},
       {"total_parameters", param_count(model.weights)},
       {"train_examples", dataset.train.summary.kept},
       {"truncated", dataset.train.summary.truncated},
       {"dropped_no_targets", dataset.train.summary.dropped_no_targets},
       {"device", mx::default_device() == mx::Device::cpu ? "cpu" : "gpu"},
       {"blas", blas_library()}});
  result.first_val_loss = evaluate_valid(0);

  std::vector<mx::array> window_losses;
  std::vector<mx::array> window_tokens;
  std::optional<mx::array> last_grad_norm;
  double train_seconds = 0.0;
  mx::reset_peak_memory();
  bool first_window = true;
  long batch_index = 0;
  auto window_start = Clock::now();
  for (int it = 1; it <= c.iters; ++it) {
    for (int micro = 0; micro < c.grad_accumulation_steps; ++micro) {
      data::Batch batch =
          data::make_batch(schedule.batch(batch_index++), batch_options);
      StepResult r = micro + 1 < c.grad_accumulation_steps
                         ? step.accumulate(state, batch)
                         : step.update(state, batch);
      window_losses.push_back(r.loss_sum);
      window_tokens.push_back(r.tokens);
      if (r.grad_norm) {
        last_grad_norm = r.grad_norm;
      }
      // Queue the work and go on building the next batch: no host sync here.
      std::vector<mx::array> pending = state.arrays();
      pending.push_back(r.loss_sum);
      mx::async_eval(pending);
    }
    log.progress(it);
    if (it % c.steps_per_report == 0 || it == c.iters) {
      mx::eval(window_losses);
      double loss_sum = 0.0;
      double tokens = 0.0;
      for (size_t i = 0; i < window_losses.size(); ++i) {
        loss_sum += window_losses[i].item<float>();
        tokens += window_tokens[i].item<float>();
      }
      const double seconds =
          std::chrono::duration<double>(Clock::now() - window_start).count();
      train_seconds += seconds;
      const double loss = loss_sum / std::max(tokens, 1.0);
      if (first_window) {
        result.first_train_loss = loss;
        first_window = false;
      }
      result.last_train_loss = loss;
      log.record(
          {{"event", "train"},
           {"step", it},
           {"loss", loss},
           {"learning_rate", optim::schedule_value(lr_schedule, it - 1)},
           {"grad_norm", last_grad_norm ? last_grad_norm->item<float>() : 0.0f},
           {"tokens_per_sec", tokens / seconds},
           {"trained_tokens", static_cast<long>(tokens)},
           {"peak_memory_gb", peak_memory_gb()}});
      window_losses.clear();
      window_tokens.clear();
      window_start = Clock::now();
    }
    if (it % c.steps_per_eval == 0 && it != c.iters) {
      evaluate_valid(it);
      window_start = Clock::now();
    }
    if (c.save_every > 0 && it % c.save_every == 0 && it != c.iters) {
      save(it, false);
      window_start = Clock::now();
    }
  }
  result.last_val_loss = evaluate_valid(c.iters);
  save(c.iters, true);
  if (c.test && dataset.test) {
    EvalResult r = evaluator.run(current_weights(),
                                 dataset.test->examples,
                                 batch_options,
                                 c.test_batches);
    result.test_loss = r.loss;
    log.record(
        {{"event", "test"}, {"test_loss", r.loss}, {"test_ppl", r.perplexity}});
  }
  log.record({{"event", "done"},
              {"train_seconds", train_seconds},
              {"total_seconds",
               std::chrono::duration<double>(Clock::now() - started).count()},
              {"peak_memory_gb", peak_memory_gb()}});
  return result;
}

} // namespace mlxt::train

#include "mlxt/train/sft.h"

#include <chrono>
#include <cmath>
#include <ctime>
#include <iomanip>
#include <ostream>
#include <sstream>

#include "mlxt/ckpt/checkpoint.h"
#include "mlxt/ckpt/checkpoint_dir.h"
#include "mlxt/core/atomic_file.h"
#include "mlxt/core/blas.h"
#include "mlxt/core/error.h"
#include "mlxt/core/failpoint.h"
#include "mlxt/data/encoded_cache.h"
#include "mlxt/data/packing.h"
#include "mlxt/data/sft_data.h"
#include "mlxt/data/shard_stream.h"
#include "mlxt/gguf/model_source.h"
#include "mlxt/models/model.h"
#include "mlxt/optim/optimizer.h"
#include "mlxt/train/artifacts.h"
#include "mlxt/train/checkpointing.h"
#include "mlxt/train/evaluate.h"
#include "mlxt/train/metrics.h"
#include "mlxt/train/optimizer_setup.h"
#include "mlxt/train/step.h"
#include "mlxt/train/stop_request.h"
#include "mlxt/train/trainable.h"

namespace mlxt::train {

namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

std::string default_run_id() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  std::ostringstream ss;
  ss << std::put_time(&tm, "%Y%m%d-%H%M%S");
  return ss.str();
}

// The encoded-dataset cache of a run, or nullopt for `data_cache: none`.
std::optional<data::CacheOptions>
data_cache_options(const config::TrainConfig& c) {
  if (c.data_cache == "none") {
    return std::nullopt;
  }
  return data::CacheOptions{
      .root = c.data_cache.empty() ? fs::path(c.runs_dir) / ".cache/encoded"
                                   : fs::path(c.data_cache),
      .tokenizer_digest = data::tokenizer_digest(c.model),
      .shard_tokens = static_cast<size_t>(c.data_shard_tokens)};
}

LoraSpec lora_spec(const config::TrainConfig& c) {
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

SftResult run_sft(const config::TrainConfig& c,
                  std::ostream& out,
                  const ResumeFrom& resume) {
  const auto started = Clock::now();
  const fs::path model_dir = c.model;
  gguf::ModelWithTokenizer opened = gguf::open_model(model_dir);
  models::Model& model = opened.model;
  tokenizer::Tokenizer& tok = opened.tokenizer;
  const data::EncodeOptions encode{.mask_prompt = c.mask_prompt,
                                   .max_seq_length = c.max_seq_length};
  const std::optional<data::CacheOptions> cache = data_cache_options(c);
  if (c.streaming && !cache) {
    fail(ErrorCode::invalid_config,
         "streaming reads the encoded-dataset cache; set data_cache to a "
         "folder (or leave it empty), not none",
         {.key = "streaming"});
  }
  std::vector<nlohmann::json> cache_events;
  // Streaming: the train split stays on disk as shards, read one at a time.
  std::optional<data::CachedSplit> streamed;
  data::EncodedDataset dataset;
  const data::SplitFiles files = data::find_splits(c.data);
  auto load_split = [&](const fs::path& file, const char* name) {
    if (!cache) {
      return data::load_sft_split(file, tok, encode);
    }
    data::CachedSplit split =
        data::open_encoded_split(file, tok, encode, {}, *cache);
    cache_events.push_back({{"event", "data_cache"},
                            {"split", name},
                            {"path", split.dir.string()},
                            {"reused", split.reused},
                            {"rebuilt_because", split.rebuilt_because},
                            {"shards", split.shards.size()}});
    if (c.streaming && std::string(name) == "train") {
      streamed = split;
      return split.split; // summaries only
    }
    return data::read_encoded_examples(split);
  };
  dataset.train = load_split(files.train, "train");
  if (files.valid) {
    dataset.valid = load_split(*files.valid, "valid");
  }
  if (files.test) {
    dataset.test = load_split(*files.test, "test");
  }

  const mx::Dtype dtype = config::to_mx_dtype(c.compute_dtype);
  mx::random::seed(c.seed);
  ParamSplit split =
      split_trainable(model,
                      {.fine_tune_type = c.fine_tune_type,
                       .compute_dtype = dtype,
                       .master_weights_fp32 = c.master_weights_fp32,
                       .lora = lora_spec(c),
                       .seed = static_cast<uint64_t>(c.seed)});

  // A resumed run continues in the folder of its checkpoint.
  SftResult result;
  const std::string run_id = c.run_id.empty() ? default_run_id() : c.run_id;
  result.run_dir = resume.checkpoint
                       ? resume.checkpoint->parent_path().parent_path().string()
                       : (fs::path(c.runs_dir) / run_id).string();
  result.output_dir = c.adapter_path;
  nlohmann::json resolved = c.to_json();
  resolved["run_id"] = fs::path(result.run_dir).filename().string();
  fs::create_directories(result.run_dir);
  write_file_atomic(fs::path(result.run_dir) / "config.json",
                    resolved.dump(2) + "\n");
  MetricsLog log(fs::path(result.run_dir) / "metrics.jsonl",
                 out,
                 c.progress_bar && stderr_is_terminal(),
                 c.iters);

  // Built once: the optimizer traces it and reports read it on the host.
  const optim::Schedule lr_schedule = make_learning_rate_schedule(c);
  auto optimizer =
      make_configured_optimizer(c, lr_schedule, param_names(split.trainable));

  nn::ForwardContext forward;
  forward.compute_dtype = dtype;
  forward.lora_scale = c.lora_parameters.scale;
  forward.lora_dropout = c.fine_tune_type == config::FineTuneType::lora
                             ? c.lora_parameters.dropout
                             : 0.0f;
  forward.checkpoint_blocks = c.grad_checkpoint;

  TrainStep step(StepOptions{.args = model.args,
                             .trainable_names = param_names(split.trainable),
                             .frozen_names = param_names(split.frozen),
                             .forward = forward,
                             .max_grad_norm = c.max_grad_norm
                                                  ? std::optional<float>(
                                                        float(*c.max_grad_norm))
                                                  : std::nullopt,
                             .packed = c.pack_sequences},
                 *optimizer);
  TrainState state;
  state.trainable = param_values(split.trainable);
  state.frozen = param_values(split.frozen);
  state.optimizer_state = optimizer->init_state(state.trainable);
  state.key = mx::random::key(c.seed);

  const CheckpointNames names{
      .trainable = param_names(split.trainable),
      .optimizer = optimizer->state_names(param_names(split.trainable))};
  const nlohmann::json fingerprint = run_fingerprint(c);
  LoopPosition position;
  if (resume.checkpoint) {
    ckpt::Checkpoint saved = ckpt::read_checkpoint(*resume.checkpoint);
    const nlohmann::json saved_state = saved.documents["state"];
    bool changed = check_fingerprint(
        saved_state.value("fingerprint", nlohmann::json::object()),
        fingerprint,
        resume.force);
    restore_training_checkpoint(saved, names, state, position);
    position.exact = position.exact && !changed;
    log.record({{"event", "resume"},
                {"step", position.iteration},
                {"checkpoint", resume.checkpoint->string()},
                {"exact", position.exact}});
  }
  mx::eval(state.arrays());

  const data::BatchOptions batch_options{.batch_size = c.batch_size,
                                         .pad_multiple =
                                             data::default_pad_multiple(),
                                         .max_seq_length = c.max_seq_length};
  // Packed rows or length-sorted examples, as pack_sequences says; from
  // memory, or shard by shard when streaming.
  std::optional<data::BatchSchedule> schedule;
  std::optional<data::PackedSchedule> packed_schedule;
  std::optional<data::ShardStream> stream;
  if (streamed) {
    stream.emplace(*streamed, batch_options, c.seed, c.pack_sequences);
    if (position.iteration > 0 && !position.stream) {
      fail(ErrorCode::invalid_checkpoint,
           "was written by a run without streaming; resume it with "
           "streaming: false",
           {.key = "streaming"});
    }
    if (position.stream) {
      stream->seek(*position.stream);
    }
  } else if (c.pack_sequences) {
    packed_schedule.emplace(dataset.train.examples, batch_options, c.seed);
  } else {
    schedule.emplace(dataset.train.examples, batch_options, c.seed);
  }
  auto train_batch = [&](long n) {
    if (stream) {
      data::Batch b = stream->next();
      position.stream = stream->cursor();
      return b;
    }
    return c.pack_sequences
               ? data::make_packed_batch(packed_schedule->batch(n),
                                         batch_options)
               : data::make_batch(schedule->batch(n), batch_options);
  };
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
    if (c.fine_tune_type == config::FineTuneType::full) {
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
  const fs::path checkpoint_root = checkpoints_dir(result.run_dir);
  auto checkpoint = [&] {
    fs::path dir = ckpt::write_checkpoint(
        checkpoint_root,
        make_training_checkpoint(
            names, state, position, resolved, fingerprint));
    ckpt::prune_checkpoints(checkpoint_root,
                            c.keep_checkpoints,
                            c.keep_best_checkpoint
                                ? best_checkpoint_by_val_loss(checkpoint_root)
                                : std::nullopt);
    log.record({{"event", "checkpoint"},
                {"step", position.iteration},
                {"path", dir.string()}});
  };

  // The non-finite guard's verdict is read one step late, so the host never
  // waits for the step it has just queued.
  struct PendingStep {
    int step;
    mx::array applied, loss, tokens, grad_norm;
  };
  std::optional<PendingStep> pending;
  auto settle = [&] {
    if (!pending) {
      return;
    }
    PendingStep p = *pending;
    pending.reset();
    if (p.applied.item<bool>()) {
      position.skipped_in_a_row = 0;
      return;
    }
    ++position.skipped_in_a_row;
    const float loss =
        p.loss.item<float>() / std::max(p.tokens.item<float>(), 1.0f);
    const float norm = p.grad_norm.item<float>();
    log.record({{"event", "skipped_step"},
                {"step", p.step},
                {"loss",
                 std::isfinite(loss) ? nlohmann::json(loss)
                                     : nlohmann::json(std::to_string(loss))},
                {"grad_norm",
                 std::isfinite(norm) ? nlohmann::json(norm)
                                     : nlohmann::json(std::to_string(norm))}});
    const std::string what = "step " + std::to_string(p.step) + ": the loss (" +
                             std::to_string(loss) + ") or gradient norm (" +
                             std::to_string(norm) +
                             ") is not finite; the update was not applied";
    if (c.nonfinite_policy == config::NonfinitePolicy::fail) {
      fail(ErrorCode::nonfinite, what, {.key = "nonfinite_policy"});
    }
    if (position.skipped_in_a_row > c.max_skipped_steps) {
      fail(ErrorCode::nonfinite,
           what + ", and " + std::to_string(position.skipped_in_a_row) +
               " steps in a row were skipped",
           {.key = "max_skipped_steps"});
    }
  };

  for (const nlohmann::json& event : cache_events) {
    log.record(event);
  }
  log.record(
      {{"event", "start"},
       {"run_id", run_id},
       {"fine_tune_type", config::to_string(c.fine_tune_type)},
       {"optimizer", optimizer->name()},
       {"trainable_parameters", param_count(split.trainable)},
       {"total_parameters", param_count(model.weights)},
       {"train_examples", dataset.train.summary.kept},
       {"truncated", dataset.train.summary.truncated},
       {"dropped_no_targets", dataset.train.summary.dropped_no_targets},
       {"streaming", c.streaming},
       {"device", mx::default_device() == mx::Device::cpu ? "cpu" : "gpu"},
       {"blas", blas_library()}});
  try {
    if (position.iteration == 0) {
      result.first_val_loss = evaluate_valid(0);
    }
    std::vector<mx::array> window_losses;
    std::vector<mx::array> window_tokens;
    std::optional<mx::array> last_grad_norm;
    double train_seconds = 0.0;
    mx::reset_peak_memory();
    bool first_window = true;
    auto window_start = Clock::now();
    for (int it = static_cast<int>(position.iteration) + 1; it <= c.iters;
         ++it) {
      position.val_loss.reset();
      for (int micro = 0; micro < c.grad_accumulation_steps; ++micro) {
        data::Batch batch = train_batch(position.batch_index++);
        const bool last = micro + 1 == c.grad_accumulation_steps;
        StepResult r =
            last ? step.update(state, batch) : step.accumulate(state, batch);
        window_losses.push_back(r.loss_sum);
        window_tokens.push_back(r.tokens);
        // Queue the work and go on building the next batch: no host sync.
        std::vector<mx::array> queued = state.arrays();
        queued.push_back(r.loss_sum);
        if (last) {
          last_grad_norm = r.grad_norm;
          queued.push_back(*r.applied);
        }
        mx::async_eval(queued);
        if (last) {
          settle();
          pending =
              PendingStep{it, *r.applied, r.loss_sum, r.tokens, *r.grad_norm};
        }
      }
      position.iteration = it;
      log.progress(it);
      if (it % c.steps_per_report == 0 || it == c.iters) {
        settle();
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
             {"learning_rate",
              optim::schedule_value(
                  lr_schedule,
                  std::max<long>(long(state.step.item<uint64_t>()) - 1, 0))},
             {"grad_norm",
              last_grad_norm ? last_grad_norm->item<float>() : 0.0f},
             {"tokens_per_sec", tokens / seconds},
             {"trained_tokens", static_cast<long>(tokens)},
             {"data_cursor", position.batch_index},
             {"peak_memory_gb", peak_memory_gb()}});
        window_losses.clear();
        window_tokens.clear();
        window_start = Clock::now();
      }
      if (it % c.steps_per_eval == 0 && it != c.iters) {
        settle();
        position.val_loss = evaluate_valid(it);
        window_start = Clock::now();
      }
      if (c.save_every > 0 && it % c.save_every == 0 && it != c.iters) {
        settle();
        save(it, false);
        checkpoint();
        window_start = Clock::now();
      }
      if (stop_requested() && it != c.iters) {
        settle();
        checkpoint();
        log.record({{"event", "stopped"}, {"step", it}});
        result.stopped = true;
        return result;
      }
      failpoint("train.step");
    }
    settle();
    result.last_val_loss = evaluate_valid(c.iters);
    position.val_loss = result.last_val_loss;
    save(c.iters, true);
    checkpoint();
    if (c.test && dataset.test) {
      EvalResult r = evaluator.run(current_weights(),
                                   dataset.test->examples,
                                   batch_options,
                                   c.test_batches);
      result.test_loss = r.loss;
      log.record({{"event", "test"},
                  {"test_loss", r.loss},
                  {"test_ppl", r.perplexity}});
    }
    log.record({{"event", "done"},
                {"exact", position.exact},
                {"train_seconds", train_seconds},
                {"total_seconds",
                 std::chrono::duration<double>(Clock::now() - started).count()},
                {"peak_memory_gb", peak_memory_gb()}});
  } catch (const std::exception& e) {
    log.record({{"event", "failed"}, {"error", e.what()}});
    throw;
  }
  return result;
}

} // namespace mlxt::train

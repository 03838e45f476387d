#include "mlxt/train/loop.h"

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
#include "mlxt/optim/optimizer.h"
#include "mlxt/train/checkpointing.h"
#include "mlxt/train/metrics.h"
#include "mlxt/train/optimizer_setup.h"
#include "mlxt/train/stop_request.h"

namespace mlxt::train {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

std::string default_run_id() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  std::ostringstream ss;
  ss << std::put_time(&tm, "%Y%m%d-%H%M%S");
  return ss.str();
}

double peak_memory_gb() {
  return static_cast<double>(mx::get_peak_memory()) / 1e9;
}

// A float for a JSON record: NaN/Inf as strings (JSON has no such numbers).
json finite_or_text(float value) {
  return std::isfinite(value) ? json(value) : json(std::to_string(value));
}

// What one report window (steps_per_report steps) accumulates: device
// scalars read only at the report, host counts for throughput.
struct ReportWindow {
  std::vector<mx::array> losses, counts;
  std::vector<std::vector<mx::array>> metrics; // per micro-batch
  long tokens = 0;                             // non-padding input tokens
  long target_tokens = 0;                      // trained positions
  int steps = 0;
  // Training time of the window: evaluation and saving pause the clock.
  double paused_seconds = 0.0; // counted before the last pause
  Clock::time_point start = Clock::now();

  double seconds() const { return paused_seconds + seconds_since(start); }
  void pause() { paused_seconds += seconds_since(start); }
  void resume() { start = Clock::now(); }
  void restart() { *this = ReportWindow{}; }
};

// The step whose non-finite verdict has not been read yet: the host reads it
// one step late, so it never waits for the step it has just queued.
struct PendingStep {
  int step;
  mx::array applied, loss, count, grad_norm;
};

} // namespace

RunResult run_loop(const config::TrainConfig& c,
                   Method& method,
                   std::ostream& out,
                   const ResumeFrom& resume) {
  const auto started = Clock::now();
  RunResult result;
  // A resumed run continues in the folder of its checkpoint.
  const std::string run_id = c.run_id.empty() ? default_run_id() : c.run_id;
  result.run_dir = resume.checkpoint
                       ? resume.checkpoint->parent_path().parent_path().string()
                       : (fs::path(c.runs_dir) / run_id).string();
  result.output_dir = c.adapter_path;
  json resolved = c.to_json();
  resolved["run_id"] = fs::path(result.run_dir).filename().string();
  fs::create_directories(result.run_dir);
  write_file_atomic(fs::path(result.run_dir) / "config.json",
                    resolved.dump(2) + "\n");
  MetricsLog log(fs::path(result.run_dir) / "metrics.jsonl",
                 out,
                 c.progress_bar && stderr_is_terminal());

  // Built once: the optimizer traces it and reports read it on the host.
  const optim::Schedule lr_schedule = make_learning_rate_schedule(c);
  const ParamSplit& split = method.parameters();
  const std::vector<std::string> trainable_names = param_names(split.trainable);
  auto optimizer = make_configured_optimizer(c, lr_schedule, trainable_names);
  const std::vector<std::string> metric_names = method.metric_names();
  TrainStep step(StepOptions{.trainable_names = trainable_names,
                             .frozen_names = param_names(split.frozen),
                             .loss = method.loss(),
                             .batch_arrays = method.batch_arrays(),
                             .metrics = static_cast<int>(metric_names.size()),
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

  const CheckpointNames names{.trainable = trainable_names,
                              .optimizer =
                                  optimizer->state_names(trainable_names)};
  const json fingerprint = run_fingerprint(c);
  LoopPosition position;
  if (resume.checkpoint) {
    ckpt::Checkpoint saved = ckpt::read_checkpoint(*resume.checkpoint);
    const json saved_state = saved.documents["state"];
    bool changed =
        check_fingerprint(saved_state.value("fingerprint", json::object()),
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
  if (position.iteration > 0) {
    method.seek(position.batch_index, position.data_cursor);
    method.restore_extra_state(position.method_state);
  }

  auto current_weights = [&] {
    Params w = split.frozen;
    for (const auto& [name, value] :
         zip_params(trainable_names, state.trainable)) {
      w.insert_or_assign(name, value);
    }
    return w;
  };
  auto evaluate = [&](int at_step,
                      EvalSplit which) -> std::optional<EvalReport> {
    const std::string prefix = which == EvalSplit::valid ? "val_" : "test_";
    const auto t0 = Clock::now();
    ProgressFn progress = [&](long done, long total) {
      const double elapsed = seconds_since(t0);
      const double per_batch = done > 0 ? elapsed / done : 0.0;
      log.progress({.phase = "eval",
                    .done = done,
                    .total = total,
                    .seconds_per_unit = per_batch,
                    .elapsed_seconds = elapsed,
                    .eta_seconds = per_batch * (total - done)});
    };
    std::optional<EvalReport> r =
        method.evaluate(current_weights(), which, progress);
    if (!r) {
      return r;
    }
    json record = {{"event", which == EvalSplit::valid ? "eval" : "test"},
                   {prefix + "loss", r->loss}};
    if (which == EvalSplit::valid) {
      record["step"] = at_step;
      record["seconds"] = seconds_since(t0);
    }
    for (const auto& [key, value] : r->metrics.items()) {
      record[prefix + key] = value;
    }
    log.record(record);
    return r;
  };
  auto save = [&](int at_step, bool final) {
    const std::string path = method.save(
        zip_params(trainable_names, state.trainable), at_step, final, resolved);
    log.record({{"event", "save"}, {"step", at_step}, {"path", path}});
  };
  const fs::path checkpoint_root = checkpoints_dir(result.run_dir);
  auto checkpoint = [&] {
    position.data_cursor = method.data_cursor();
    position.method_state = method.extra_state();
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
        p.loss.item<float>() / std::max(p.count.item<float>(), 1.0f);
    const float norm = p.grad_norm.item<float>();
    log.record({{"event", "skipped_step"},
                {"step", p.step},
                {"loss", finite_or_text(loss)},
                {"grad_norm", finite_or_text(norm)}});
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

  for (const json& record : method.setup_records()) {
    log.record(record);
  }
  json start = method.start_fields();
  start.update(
      {{"event", "start"},
       {"run_id", run_id},
       {"optimizer", c.optimizer},
       {"iters", c.iters},
       {"trainable_parameters", param_count(split.trainable)},
       {"device", mx::default_device() == mx::Device::cpu ? "cpu" : "gpu"},
       {"blas", blas_library()}});
  log.record(start);
  try {
    if (position.iteration == 0) {
      auto r = evaluate(0, EvalSplit::valid);
      result.first_val_loss = r ? std::optional(r->loss) : std::nullopt;
    }
    ReportWindow window;
    std::optional<mx::array> last_grad_norm;
    double train_seconds = 0.0;
    long timed_steps = 0; // steps whose time is in train_seconds
    mx::reset_peak_memory();
    bool first_window = true;
    for (int it = static_cast<int>(position.iteration) + 1; it <= c.iters;
         ++it) {
      position.val_loss.reset();
      method.before_update(current_weights());
      for (int micro = 0; micro < c.grad_accumulation_steps; ++micro) {
        MethodBatch batch = method.next_batch(position.batch_index++);
        window.tokens += batch.tokens;
        window.target_tokens += batch.target_tokens;
        const bool last = micro + 1 == c.grad_accumulation_steps;
        StepResult r = last ? step.update(state, batch.arrays)
                            : step.accumulate(state, batch.arrays);
        window.losses.push_back(r.loss_sum);
        window.counts.push_back(r.count);
        window.metrics.push_back(r.metrics);
        // Queue the work and go on building the next batch: no host sync.
        std::vector<mx::array> queued = state.arrays();
        queued.push_back(r.loss_sum);
        queued.insert(queued.end(), r.metrics.begin(), r.metrics.end());
        if (last) {
          last_grad_norm = r.grad_norm;
          queued.push_back(*r.applied);
        }
        mx::async_eval(queued);
        if (last) {
          settle();
          pending =
              PendingStep{it, *r.applied, r.loss_sum, r.count, *r.grad_norm};
        }
      }
      position.iteration = it;
      ++window.steps;
      {
        const double window_seconds = window.seconds();
        const double per_step =
            (train_seconds + window_seconds) / (timed_steps + window.steps);
        log.progress({.phase = "train",
                      .done = it,
                      .total = c.iters,
                      .seconds_per_unit = per_step,
                      .tokens_per_sec = window_seconds > 0
                                            ? window.tokens / window_seconds
                                            : 0.0,
                      .elapsed_seconds = seconds_since(started),
                      .eta_seconds = per_step * (c.iters - it)});
      }
      if (it % c.steps_per_report == 0 || it == c.iters) {
        settle();
        mx::eval(window.losses);
        double loss_sum = 0.0;
        double count = 0.0;
        std::vector<double> metric_sums(metric_names.size(), 0.0);
        for (size_t i = 0; i < window.losses.size(); ++i) {
          loss_sum += window.losses[i].item<float>();
          count += window.counts[i].item<float>();
          for (size_t m = 0; m < metric_sums.size(); ++m) {
            metric_sums[m] += window.metrics[i][m].item<float>();
          }
        }
        const double seconds = window.seconds();
        const double loss = loss_sum / std::max(count, 1.0);
        if (first_window) {
          result.first_train_loss = loss;
          first_window = false;
        }
        result.last_train_loss = loss;
        const int window_steps = window.steps;
        train_seconds += seconds;
        timed_steps += window_steps;
        const double per_step = train_seconds / std::max(timed_steps, 1L);
        json record = {
            {"event", "train"},
            {"step", it},
            {"total_steps", c.iters},
            {"loss", loss},
            {"learning_rate",
             optim::schedule_value(
                 lr_schedule,
                 std::max<long>(long(state.step.item<uint64_t>()) - 1, 0))},
            {"grad_norm",
             last_grad_norm ? last_grad_norm->item<float>() : 0.0f},
            {"tokens_per_sec", window.tokens / seconds},
            {"target_tokens_per_sec", window.target_tokens / seconds},
            {"trained_tokens", window.target_tokens},
            {"seconds_per_step", seconds / std::max(window_steps, 1)},
            {"elapsed_seconds", seconds_since(started)},
            {"eta_seconds", per_step * (c.iters - it)},
            {"data_cursor", position.batch_index},
            {"peak_memory_gb", peak_memory_gb()}};
        for (size_t m = 0; m < metric_sums.size(); ++m) {
          record[metric_names[m]] = metric_sums[m] / std::max(count, 1.0);
        }
        record.update(method.report_metrics());
        log.record(record);
        window.restart();
      }
      if (it % c.steps_per_eval == 0 && it != c.iters) {
        settle();
        window.pause();
        auto r = evaluate(it, EvalSplit::valid);
        position.val_loss = r ? std::optional(r->loss) : std::nullopt;
        window.resume();
      }
      if (c.save_every > 0 && it % c.save_every == 0 && it != c.iters) {
        settle();
        window.pause();
        save(it, false);
        checkpoint();
        window.resume();
      }
      if (stop_requested() && it != c.iters) {
        settle();
        // The output as it stands (adapters or a model folder), so a
        // stopped run is usable as it is, and the checkpoint to resume.
        save(it, true);
        checkpoint();
        log.record({{"event", "stopped"}, {"step", it}});
        result.stopped = true;
        return result;
      }
      failpoint("train.step");
    }
    settle();
    auto last_eval = evaluate(c.iters, EvalSplit::valid);
    result.last_val_loss =
        last_eval ? std::optional(last_eval->loss) : std::nullopt;
    position.val_loss = result.last_val_loss;
    save(c.iters, true);
    checkpoint();
    if (c.test) {
      auto r = evaluate(c.iters, EvalSplit::test);
      result.test_loss = r ? std::optional(r->loss) : std::nullopt;
    }
    log.record({{"event", "done"},
                {"exact", position.exact},
                {"train_seconds", train_seconds},
                {"total_seconds", seconds_since(started)},
                {"peak_memory_gb", peak_memory_gb()}});
  } catch (const std::exception& e) {
    log.record({{"event", "failed"}, {"error", e.what()}});
    throw;
  }
  return result;
}

} // namespace mlxt::train

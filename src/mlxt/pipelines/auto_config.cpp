#include "mlxt/pipelines/auto_config.h"

#include <cmath>

#include "mlxt/config/choices.h"
#include "mlxt/core/error.h"
#include "mlxt/data/encoded_cache.h"
#include "mlxt/data/sft_data.h"

namespace mlxt::pipelines {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Length statistics are a few numbers each: this bounds a long-lived
// server's memory, not its speed.
constexpr size_t kMaxCached = 1024;

// Lengths as the data is: no truncation, invalid rows skipped.
const data::EncodeOptions kUncut{.max_seq_length = 1 << 24};
const data::DataOptions kSkipInvalid{.skip_invalid = true};

json answer(const AutoConfigRequest& request, const Measurement& m) {
  const train::ModelShape& shape = m.shape;
  const train::AutoConfig suggestion =
      train::suggest_config(shape,
                            static_cast<long>(m.lengths.p95),
                            request.memory_bytes,
                            request.gpu ? 128 : 32,
                            request.gpu);
  const train::TrainPlan& plan = suggestion.plan;
  json out = suggestion.to_json();
  out["device"] = request.gpu ? "gpu" : "cpu";
  out["model"] = {{"path", request.model.string()},
                  {"parameters", std::llround(shape.parameters())},
                  {"layers", shape.layers},
                  {"hidden_size", shape.hidden},
                  {"vocab_size", shape.vocab},
                  {"weight_bytes", shape.weight_bytes},
                  {"quantized_bits", shape.quantized_bits}};
  out["data"] = {{"path", request.data.string()},
                 {"examples", m.lengths.examples},
                 {"length",
                  {{"median", m.lengths.median},
                   {"p95", m.lengths.p95},
                   {"max", m.lengths.max}}},
                 {"cached", m.cached}};
  // QLoRA trains as LoRA over the base once it is quantized.
  const bool full = plan.method == train::PlanMethod::full;
  json config = {{"model", request.model_name},
                 {"data", request.data_name},
                 {"fine_tune_type",
                  config::to_string(full ? config::FineTuneType::full
                                         : config::FineTuneType::lora)},
                 {"batch_size", plan.batch_size},
                 {"max_seq_length", plan.seq_len},
                 {"compute_dtype", plan.compute_dtype},
                 {"grad_checkpoint", plan.grad_checkpoint}};
  if (!full) {
    config["num_layers"] = -1;
    config["lora_parameters"] = {{"rank", plan.lora_rank}};
  }
  // The trainer does not quantize a base itself: over a dense base this
  // config would train plain LoRA at full precision, far over the budget.
  if (plan.method == train::PlanMethod::qlora && shape.quantized_bits == 0) {
    out["config"] = nullptr;
    out["next_step"] =
        "QLoRA needs a quantized base (" + suggestion.quantization +
        "), which this build cannot make from a dense model: quantize it "
        "with mlx-lm (mlx_lm.convert -q --q-bits " +
        std::to_string(plan.quantize_bits) +
        ") or import a quantized GGUF (mlxt convert --from_gguf), then ask "
        "again with that model";
    return out;
  }
  out["config"] = config;
  return out;
}

bool finished(const std::shared_future<Measurement>& measured) {
  return measured.wait_for(std::chrono::seconds(0)) ==
         std::future_status::ready;
}

} // namespace

AutoConfigurator::AutoConfigurator(const std::atomic<bool>& stopping)
    : stopping_(stopping), worker_([this] { work(); }) {}

AutoConfigurator::~AutoConfigurator() {
  {
    std::lock_guard lock(mutex_);
    closing_ = true;
  }
  wake_.notify_one();
  worker_.join();
}

std::optional<json> AutoConfigurator::suggest(const AutoConfigRequest& request,
                                              std::chrono::milliseconds wait) {
  const std::string key = request.model.string() + "\n" + request.data.string();
  std::shared_future<Measurement> measured;
  {
    std::lock_guard lock(mutex_);
    auto it = in_flight_.find(key);
    // A finished measurement stays in in_flight_ until the worker takes
    // the lock again; joining it then would answer from bytes read before
    // this request (the file may have changed), so it is measured anew
    // (from the cache when the bytes are the same).
    if (it != in_flight_.end() && finished(it->second)) {
      in_flight_.erase(it);
      it = in_flight_.end();
    }
    if (it != in_flight_.end()) {
      measured = it->second;
    } else {
      Task task{key,
                std::packaged_task<Measurement()>(
                    [this, model = request.model, data = request.data] {
                      return measure(model, data);
                    })};
      measured = task.run.get_future().share();
      in_flight_[key] = measured;
      queue_.push_back(std::move(task));
      wake_.notify_one();
    }
  }
  if (measured.wait_for(wait) != std::future_status::ready) {
    return std::nullopt;
  }
  return answer(request, measured.get()); // rethrows a measuring error
}

void AutoConfigurator::work() {
  std::unique_lock lock(mutex_);
  while (true) {
    wake_.wait(lock, [this] { return closing_ || !queue_.empty(); });
    if (queue_.empty()) {
      return; // closing, nothing queued
    }
    Task task = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    task.run(); // stores the result or the error for every waiter
    lock.lock();
    // Unless a request already replaced it with a queued (unfinished) one.
    if (auto it = in_flight_.find(task.key);
        it != in_flight_.end() && finished(it->second)) {
      in_flight_.erase(it);
    }
  }
}

Measurement AutoConfigurator::measure(const fs::path& model,
                                      const fs::path& data) {
  auto check_stopped = [this] {
    if (stopped()) {
      fail(ErrorCode::conflict,
           "auto-config: the server is stopping; ask again once it runs");
    }
  };
  check_stopped();
  Measurement m{.shape = train::model_shape(model)};
  const fs::path file = data::find_splits(data).train;
  const std::string key = data::encoded_cache_key(
      file,
      kUncut,
      kSkipInvalid,
      {.tokenizer_digest = data::tokenizer_digest(model)});
  if (auto hit = cache_.find(key); hit != cache_.end()) {
    m.lengths = hit->second;
    m.cached = true;
    return m;
  }
  const tokenizer::Tokenizer tok = tokenizer::Tokenizer::load(model);
  std::vector<data::Example> examples;
  data::encode_sft_split(
      file, tok, kUncut, kSkipInvalid, [&](data::Example&& e) {
        check_stopped();
        examples.push_back(std::move(e));
      });
  m.lengths = data::length_stats(examples);
  cache_[key] = m.lengths;
  cache_order_.push_back(key);
  if (cache_order_.size() > kMaxCached) {
    cache_.erase(cache_order_.front());
    cache_order_.pop_front();
  }
  return m;
}

} // namespace mlxt::pipelines

// Automatic training configuration (POST /v1/auto-config): the plan a model,
// a dataset and a memory budget suggest (train/memory_estimate.h), with the
// reasoning and a config that POST /v1/jobs accepts as it is.
//
// Measuring means reading the model's shape and tokenizing the dataset's
// train split uncut (its p95 length sizes the sequences). It runs on one
// worker thread, never on the caller's: a caller waits for it at most as
// long as it asks, and the measurement goes on after a caller gives up.
// Lengths are kept by the split's encoded-cache key (data/encoded_cache.h:
// the file's SHA-256, the tokenizer digest, the encoding settings), so the
// same bytes are tokenized once, whatever their path; calls for the same
// model and data while a measurement runs share it.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "mlxt/data/stats.h"
#include "mlxt/train/memory_estimate.h"

namespace mlxt::pipelines {

struct AutoConfigRequest {
  std::filesystem::path model; // a model folder
  std::filesystem::path data;  // a dataset file or folder
  // The paths as the caller named them: the suggested config repeats them.
  std::string model_name, data_name;
  double memory_bytes = 0;
  bool gpu = false; // sequences padded to 128 and bfloat16, else 32 and fp32
};

//! What the worker measures for one request.
struct Measurement {
  train::ModelShape shape;
  data::LengthStats lengths; // of the train split, uncut
  bool cached = false;       // the lengths came from the cache
};

class AutoConfigurator {
public:
  //! Starts the worker. Once `stopping` is true (the server is shutting
  //! down), a measurement ends at its next example and queued ones fail.
  explicit AutoConfigurator(const std::atomic<bool>& stopping);
  //! Ends the measurement in progress as `stopping` does and joins.
  ~AutoConfigurator();
  AutoConfigurator(const AutoConfigurator&) = delete;
  AutoConfigurator& operator=(const AutoConfigurator&) = delete;

  //! The answer of POST /v1/auto-config for `request`: the plan
  //! (train::AutoConfig::to_json), "device", "model" (shape), "data"
  //! (examples, lengths, "cached") and "config" (null, with "next_step",
  //! for QLoRA over a dense base: it must be quantized first). nullopt when
  //! the measurement is not done within `wait` (it goes on; ask again).
  //! Measuring errors as model_shape and encode_sft_split;
  //! Error(invalid_config) when nothing fits; Error(conflict) when the
  //! server stopped first.
  std::optional<nlohmann::json> suggest(const AutoConfigRequest& request,
                                        std::chrono::milliseconds wait);

private:
  struct Task {
    std::string key; // in_flight_'s
    std::packaged_task<Measurement()> run;
  };

  void work();
  Measurement measure(const std::filesystem::path& model,
                      const std::filesystem::path& data);
  bool stopped() const { return stopping_ || closing_; }

  const std::atomic<bool>& stopping_;
  std::atomic<bool> closing_{false};
  std::mutex mutex_; // guards queue_ and in_flight_
  std::condition_variable wake_;
  std::deque<Task> queue_;
  // By model and data path: the measurement queued or running for them.
  std::map<std::string, std::shared_future<Measurement>> in_flight_;
  // By encoded-cache key, oldest first in cache_order_; the worker's alone.
  std::map<std::string, data::LengthStats> cache_;
  std::deque<std::string> cache_order_;
  std::thread worker_; // last: starts once the members above exist
};

} // namespace mlxt::pipelines

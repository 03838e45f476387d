// POST /v1/auto-config: a training configuration for a model, a dataset and
// the memory available, with the estimated peak memory by part and the
// reasoning (train/memory_estimate.h).
#include <cmath>

#include "mlxt/core/error.h"
#include "mlxt/data/batching.h"
#include "mlxt/data/sft_data.h"
#include "mlxt/data/stats.h"
#include "mlxt/server/body.h"
#include "mlxt/server/paths.h"
#include "mlxt/server/routes.h"
#include "mlxt/train/memory_estimate.h"

namespace mlxt::server {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

Response auto_config(AppContext& app, const Request& r) {
  BodyReader body(r.json(),
                  {"model", "data", "memory_gb", "memory_bytes", "device"});
  const std::string model = body.string("model", true);
  const std::string data = body.string("data", true);
  const double gb = body.number("memory_gb", 0, 0);
  const double bytes = body.number("memory_bytes", 0, 0);
  std::string device = body.string("device", false);
  body.finish();
  if ((gb > 0) == (bytes > 0)) {
    fail(ErrorCode::invalid_config,
         "memory_gb or memory_bytes: give exactly one, above 0",
         {.key = "memory_gb"});
  }
  if (device.empty()) {
    // The device this server's trainers use: the batcher pads to 128 there.
    device = data::default_pad_multiple() == 128 ? "gpu" : "cpu";
  } else if (device != "gpu" && device != "cpu") {
    fail(ErrorCode::invalid_config,
         "device: \"" + device + "\" (allowed: gpu, cpu)",
         {.key = "device"});
  }
  const fs::path model_dir = confine_path(model, app.roots, "model");
  const fs::path data_path = confine_path(data, app.roots, "data");
  const train::ModelShape shape = train::model_shape(model_dir);
  // Lengths as the data is, uncut: the p95 sizes the sequences.
  const tokenizer::Tokenizer tok = tokenizer::Tokenizer::load(model_dir);
  const data::EncodedSplit split =
      data::load_sft_split(data::find_splits(data_path).train,
                           tok,
                           {.max_seq_length = 1 << 24},
                           {.skip_invalid = true});
  const data::LengthStats lengths = data::length_stats(split.examples);
  const double memory = bytes > 0 ? bytes : gb * 1024.0 * 1024.0 * 1024.0;
  const bool gpu = device == "gpu";
  const train::AutoConfig suggestion = train::suggest_config(
      shape, static_cast<long>(lengths.p95), memory, gpu ? 128 : 32, gpu);
  json out = suggestion.to_json();
  out["device"] = device;
  out["model"] = {{"path", model_dir.string()},
                  {"parameters", std::llround(shape.parameters())},
                  {"layers", shape.layers},
                  {"hidden_size", shape.hidden},
                  {"vocab_size", shape.vocab},
                  {"weight_bytes", shape.weight_bytes},
                  {"quantized_bits", shape.quantized_bits}};
  out["data"] = {{"path", data_path.string()},
                 {"examples", lengths.examples},
                 {"length",
                  {{"median", lengths.median},
                   {"p95", lengths.p95},
                   {"max", lengths.max}}}};
  // A config POST /v1/jobs accepts as it is.
  json config = {
      {"model", model},
      {"data", data},
      {"fine_tune_type", suggestion.plan.method == "full" ? "full" : "lora"},
      {"batch_size", suggestion.plan.batch_size},
      {"max_seq_length", suggestion.plan.seq_len},
      {"compute_dtype", suggestion.plan.compute_dtype},
      {"grad_checkpoint", suggestion.plan.grad_checkpoint}};
  if (suggestion.plan.method != "full") {
    config["num_layers"] = -1;
    config["lora_parameters"] = {{"rank", suggestion.plan.lora_rank}};
  }
  out["config"] = config;
  return Response::json(out);
}

} // namespace

std::vector<Route> auto_config_routes(AppContext& app) {
  return {{"POST",
           "/v1/auto-config",
           "Suggest method, LoRA rank, batch size, sequence length, "
           "quantization and precision for a model, a dataset and the memory "
           "available (body: model, data, memory_gb | memory_bytes, device), "
           "with the estimated peak memory by part",
           [&app](const Request& r) { return auto_config(app, r); }}};
}

} // namespace mlxt::server

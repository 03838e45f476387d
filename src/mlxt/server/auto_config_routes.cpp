// POST /v1/auto-config: parses the body, confines the paths and asks the
// auto-configurator (pipelines/auto_config.h), which measures the data on
// its worker; an answer not ready within wait_seconds is a 202.
#include "mlxt/core/error.h"
#include "mlxt/data/batching.h"
#include "mlxt/pipelines/auto_config.h"
#include "mlxt/server/body.h"
#include "mlxt/server/paths.h"
#include "mlxt/server/routes.h"

namespace mlxt::server {

using nlohmann::json;

namespace {

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

Response auto_config(AppContext& app,
                     pipelines::AutoConfigurator& configurator,
                     const Request& r) {
  BodyReader body(
      r.json(),
      {"model", "data", "memory_gb", "memory_bytes", "device", "wait_seconds"});
  const std::string model = body.string("model", true);
  const std::string data = body.string("data", true);
  const double gb = body.number("memory_gb", 0, 0);
  const double bytes = body.number("memory_bytes", 0, 0);
  const std::string device = body.string("device", false);
  const long wait = body.integer("wait_seconds", 60, 0, 600);
  body.finish();
  if ((gb > 0) == (bytes > 0)) {
    fail(ErrorCode::invalid_config,
         "memory_gb or memory_bytes: give exactly one, above 0",
         {.key = "memory_gb"});
  }
  if (!device.empty() && device != "gpu" && device != "cpu") {
    fail(ErrorCode::invalid_config,
         "device: \"" + device + "\" (allowed: gpu, cpu)",
         {.key = "device"});
  }
  const pipelines::AutoConfigRequest request{
      .model = confine_path(model, app.roots, "model"),
      .data = confine_path(data, app.roots, "data"),
      .model_name = model,
      .data_name = data,
      .memory_bytes = bytes > 0 ? bytes : gb * kGiB,
      // Without one, the device this server's trainers use: the batcher
      // pads to 128 there.
      .gpu = device.empty() ? data::default_pad_multiple() == 128
                            : device == "gpu"};
  if (auto answer = configurator.suggest(request, std::chrono::seconds(wait))) {
    return Response::json(*answer);
  }
  return Response::json(
      {{"state", "measuring"},
       {"model", request.model.string()},
       {"data", request.data.string()},
       {"message",
        "the data is still being measured (queued or tokenizing); send "
        "the same request again (it waits up to wait_seconds, " +
            std::to_string(wait) + " now) for the answer"}},
      202);
}

} // namespace

std::vector<Route> auto_config_routes(AppContext& app) {
  // The route owns the configurator: its worker lives as long as the
  // listener's table and stops with the server (app.stopping).
  auto configurator =
      std::make_shared<pipelines::AutoConfigurator>(app.stopping);
  return {{"POST",
           "/v1/auto-config",
           "Suggest method, LoRA rank, batch size, sequence length, "
           "quantization and precision for a model, a dataset and the memory "
           "available (body: model, data, memory_gb | memory_bytes, device, "
           "wait_seconds), with the estimated peak memory by part; 202 while "
           "the data is still being measured",
           [&app, configurator](const Request& r) {
             return auto_config(app, *configurator, r);
           }}};
}

} // namespace mlxt::server

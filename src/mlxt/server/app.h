// `mlxt serve`: one process, one job engine, two listeners — the Training
// Framework API (default 127.0.0.1:8500) and the Unified Training Platform
// API (default 127.0.0.1:8600). See docs/server.md.
#pragma once

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "mlxt/jobs/engine.h"
#include "mlxt/pipelines/manager.h"
#include "mlxt/server/http.h"

namespace mlxt::server {

struct ServeOptions {
  std::filesystem::path data_dir = "mlxt-data";
  std::string host = "127.0.0.1";
  int framework_port = 8500; // 0: any free port
  int platform_port = 8600;
  int max_concurrent_jobs = 1;
  std::string token; // required for a non-loopback host
  std::vector<std::string> allowed_hosts;
  // Folders besides data_dir that requests may name (models, datasets).
  std::vector<std::filesystem::path> allowed_roots;
  size_t max_body_bytes = 1 << 20;
  // Per listener; behind a proxy every client shares its address.
  size_t max_connections_per_client = 128;
  std::string hub_url;           // "": $HF_ENDPOINT or huggingface.co
  std::filesystem::path trainer; // the mlxt binary; empty: this program
};

//! Per-route request counts and latencies for GET /metrics.
class RequestStats {
public:
  void record(const std::string& listener,
              const std::string& method,
              const std::string& route,
              int status,
              double seconds);
  //! Prometheus text lines for the counters.
  std::string prometheus() const;

private:
  struct Entry {
    long count = 0;
    double seconds = 0;
  };
  mutable std::mutex mutex_;
  std::map<std::string, Entry> entries_; // labels -> totals
};

//! What every route handler shares.
struct AppContext {
  ServeOptions options;
  std::vector<std::filesystem::path> roots; // canonical; data_dir first
  //! Server files under the roots that no request may write (the engine's
  //! store and run folders, download staging).
  std::vector<std::filesystem::path> server_owned;
  jobs::Engine& engine;
  pipelines::Manager& pipelines;
  RequestStats stats;
  std::atomic<bool> stopping{false}; // ends live streams at shutdown
  std::chrono::steady_clock::time_point started =
      std::chrono::steady_clock::now();
};

//! The Training Framework API's route table (8500), common routes included.
std::vector<Route> framework_routes(AppContext& app);
//! The Unified Training Platform API's route table (8600).
std::vector<Route> platform_routes(AppContext& app);
//! Health, metrics and the OpenAPI document `openapi` (filled in once the
//! listener's table is complete), served by both listeners.
std::vector<Route> common_routes(AppContext& app,
                                 std::shared_ptr<const nlohmann::json> openapi);

//! {"openapi": "3.0.3", ...} describing `routes`.
nlohmann::json openapi_document(const std::string& title,
                                const std::vector<Route>& routes);

//! Runs the server until SIGTERM or SIGINT. Error(invalid_config) for a
//! non-loopback host without a token; Error(io) when a port is taken.
void serve(ServeOptions options);

} // namespace mlxt::server

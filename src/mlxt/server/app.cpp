#include "mlxt/server/app.h"

#include <unistd.h>

#include <csignal>
#include <iostream>
#include <sstream>
#include <thread>

#include "mlxt/core/ascii.h"
#include "mlxt/core/error.h"
#include "mlxt/server/host.h"
#include "mlxt/server/routes.h"

namespace mlxt::server {

namespace fs = std::filesystem;
using nlohmann::json;

void RequestStats::record(const std::string& listener,
                          const std::string& method,
                          const std::string& route,
                          int status,
                          double seconds) {
  const std::string labels = "listener=\"" + listener + "\",method=\"" +
                             method + "\",route=\"" +
                             (route.empty() ? "unmatched" : route) +
                             "\",status=\"" + std::to_string(status) + "\"";
  std::lock_guard lock(mutex_);
  Entry& e = entries_[labels];
  e.count += 1;
  e.seconds += seconds;
}

std::string RequestStats::prometheus() const {
  std::ostringstream out;
  std::lock_guard lock(mutex_);
  out << "# HELP mlxt_http_requests_total HTTP requests answered.\n"
         "# TYPE mlxt_http_requests_total counter\n";
  for (const auto& [labels, e] : entries_) {
    out << "mlxt_http_requests_total{" << labels << "} " << e.count << "\n";
  }
  out << "# HELP mlxt_http_request_seconds_total Time spent answering.\n"
         "# TYPE mlxt_http_request_seconds_total counter\n";
  for (const auto& [labels, e] : entries_) {
    out << "mlxt_http_request_seconds_total{" << labels << "} " << e.seconds
        << "\n";
  }
  return out.str();
}

json openapi_document(const std::string& title,
                      const std::vector<Route>& routes) {
  json paths = json::object();
  for (const Route& r : routes) {
    json op = {{"summary", r.summary},
               {"responses",
                {{"default",
                  {{"description",
                    "JSON; errors are {\"error\": {\"code\", \"message\", "
                    "\"details\"}}"}}}}}};
    json params = json::array();
    std::string path = r.pattern;
    for (size_t open = path.find('{'); open != std::string::npos;
         open = path.find('{', open + 1)) {
      size_t close = path.find('}', open);
      std::string name = path.substr(open + 1, close - open - 1);
      if (name.ends_with("*")) {
        name.pop_back();
        path.replace(open + 1, close - open - 1, name);
      }
      params.push_back({{"name", name},
                        {"in", "path"},
                        {"required", true},
                        {"schema", {{"type", "string"}}}});
    }
    if (!params.empty()) {
      op["parameters"] = params;
    }
    if (r.public_route) {
      op["security"] = json::array(); // no token needed
    }
    if (r.method == "POST") {
      const json schema = r.request_schema.is_null() ? json{{"type", "object"}}
                                                     : r.request_schema;
      op["requestBody"] = {
          {"content", {{"application/json", {{"schema", schema}}}}}};
    }
    paths[path][ascii_lower(r.method)] = op;
  }
  return {{"openapi", "3.0.3"},
          {"info", {{"title", title}, {"version", "1"}}},
          {"components",
           {{"securitySchemes",
             {{"bearer", {{"type", "http"}, {"scheme", "bearer"}}}}}}},
          {"paths", paths}};
}

std::vector<Route> common_routes(AppContext& app,
                                 std::shared_ptr<const json> openapi) {
  return {
      // Probes carry no token, so health answers without one and says
      // nothing a stranger could use (no paths, no job counts: /metrics).
      {"GET",
       "/health",
       "Status, uptime and the store's journal mode (no token needed)",
       [&app](const Request&) {
         const double uptime =
             std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                           app.started)
                 .count();
         return Response::json(
             {{"status", "ok"},
              {"uptime_seconds", uptime},
              {"store",
               {{"journal_mode", app.engine.store().journal_mode()}}}});
       },
       true},
      {"GET",
       "/health/live",
       "The process answers (no token needed)",
       [](const Request&) {
         return Response::json({{"status", "alive"}});
       },
       true},
      {"GET",
       "/health/ready",
       "The store answers and the trainer exists (no token needed)",
       [&app](const Request&) {
         const bool store = app.engine.store().journal_mode() == "wal";
         const bool trainer =
             access(app.engine.options().trainer.c_str(), X_OK) == 0;
         return Response::json(
             {{"status", store && trainer ? "ready" : "not_ready"},
              {"store", store},
              {"trainer", trainer}},
             store && trainer ? 200 : 503);
       },
       true},
      {"GET",
       "/metrics",
       "Prometheus metrics",
       [&app](const Request&) {
         std::ostringstream out;
         out << "# HELP mlxt_jobs Jobs by state.\n# TYPE mlxt_jobs gauge\n";
         for (const auto& [state, n] : app.engine.counts()) {
           out << "mlxt_jobs{state=\"" << state << "\"} " << n << "\n";
         }
         out << "# HELP mlxt_pipelines Pipelines recorded.\n"
                "# TYPE mlxt_pipelines gauge\nmlxt_pipelines "
             << app.engine.store().pipeline_count() << "\n";
         out << "# HELP mlxt_uptime_seconds Seconds since the server "
                "started.\n# TYPE mlxt_uptime_seconds gauge\n"
                "mlxt_uptime_seconds "
             << std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                              app.started)
                    .count()
             << "\n";
         out << app.stats.prometheus();
         Response r;
         r.content_type = "text/plain; version=0.0.4";
         r.body = out.str();
         return r;
       }},
      {"GET",
       "/openapi.json",
       "This API's OpenAPI 3 description",
       [openapi](const Request&) { return Response::json(*openapi); }},
  };
}

namespace {

std::vector<Route> with_common(AppContext& app,
                               const std::string& title,
                               std::vector<Route> routes) {
  auto doc = std::make_shared<json>();
  auto common = common_routes(app, doc);
  routes.insert(routes.begin(), common.begin(), common.end());
  *doc = openapi_document(title, routes);
  return routes;
}

} // namespace

std::vector<Route> framework_routes(AppContext& app) {
  std::vector<Route> routes = dashboard_routes();
  for (auto* group : {job_routes, catalogue_routes, dataset_routes}) {
    for (auto& r : group(app)) {
      routes.push_back(std::move(r));
    }
  }
  return with_common(app, "mlx-train Training Framework API", routes);
}

std::vector<Route> platform_routes(AppContext& app) {
  std::vector<Route> routes = pipeline_routes(app);
  for (auto& r : auto_config_routes(app)) {
    routes.push_back(std::move(r));
  }
  return with_common(app, "mlx-train Unified Training Platform API", routes);
}

void serve(ServeOptions o) {
  if (!is_loopback_host(o.host) && o.token.empty()) {
    fail(ErrorCode::invalid_config,
         "binding to " + o.host +
             " (not loopback) requires an API token: pass --api-token or "
             "set MLXT_API_TOKEN",
         {.key = "host"});
  }
  fs::create_directories(o.data_dir);
  std::vector<fs::path> roots = {fs::canonical(o.data_dir)};
  for (const auto& r : o.allowed_roots) {
    if (!fs::is_directory(r)) {
      fail(ErrorCode::not_found,
           "--allow-root folder does not exist",
           {.file = r.string()});
    }
    roots.push_back(fs::canonical(r));
  }
  if (o.trainer.empty()) {
    o.trainer = fs::read_symlink("/proc/self/exe");
  }
  // Signals are taken by sigwait below; every thread inherits the mask, and
  // trainers reset it (process.cpp).
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  jobs::Engine engine({.data_dir = roots[0],
                       .trainer = o.trainer,
                       .max_concurrent = o.max_concurrent_jobs});
  pipelines::Manager pipelines(engine);
  std::vector<fs::path> server_owned = engine.owned_paths();
  server_owned.push_back(roots[0] / "downloads");
  AppContext app{.options = o,
                 .roots = roots,
                 .server_owned = server_owned,
                 .engine = engine,
                 .pipelines = pipelines};
  auto listener_options = [&](const std::string& name, int port) {
    return HttpOptions{.host = o.host,
                       .port = port,
                       .token = o.token,
                       .allowed_hosts = o.allowed_hosts,
                       .max_body_bytes = o.max_body_bytes,
                       .max_connections_per_client =
                           o.max_connections_per_client,
                       .on_response = [&app, name](const std::string& method,
                                                   const std::string& route,
                                                   int status,
                                                   double seconds) {
                         app.stats.record(name, method, route, status, seconds);
                       }};
  };
  HttpServer framework(listener_options("framework", o.framework_port),
                       framework_routes(app));
  HttpServer platform(listener_options("platform", o.platform_port),
                      platform_routes(app));
  const int framework_port = framework.bind();
  const int platform_port = platform.bind();
  std::thread framework_thread([&] { framework.listen(); });
  std::thread platform_thread([&] { platform.listen(); });
  std::cout << "mlxt serve: Training Framework API on http://" << o.host << ":"
            << framework_port << "\nmlxt serve: Unified Training Platform "
            << "API on http://" << o.host << ":" << platform_port
            << "\nmlxt serve: data in " << roots[0].string() << std::endl;

  int received = 0;
  sigwait(&signals, &received);
  std::cout << "mlxt serve: " << sigabbrev_np(received) << " received, stopping"
            << std::endl;
  app.stopping = true;
  framework.stop();
  platform.stop();
  framework_thread.join();
  platform_thread.join();
  engine.shutdown();
}

} // namespace mlxt::server

// /v1/optimizers (the optimizer catalogue) and /v1/models (local models).
#include "mlxt/core/error.h"
#include "mlxt/gguf/model_list.h"
#include "mlxt/hub/download.h"
#include "mlxt/optim/catalogue.h"
#include "mlxt/server/body.h"
#include "mlxt/server/routes.h"

namespace mlxt::server {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// POST /v1/optimizers/validate: {"optimizer": NAME, "params": {...},
// "schedule": {"name": NAME, "params": {...}}} -> the values with defaults.
Response validate_optimizer(const Request& r) {
  BodyReader body(r.json(), {"optimizer", "params", "schedule"});
  const std::string name = body.string("optimizer", true);
  const json params = body.object("params");
  const bool scheduled = body.has("schedule");
  BodyReader schedule_body(
      body.object("schedule"), {"name", "params"}, "schedule.");
  const std::string schedule = schedule_body.string("name", scheduled);
  const json sparams = schedule_body.object("params");
  body.merge(schedule_body);
  body.finish();
  const auto& specs = optim::optimizer_specs();
  auto spec = std::find_if(specs.begin(), specs.end(), [&](const auto& s) {
    return s.name == name;
  });
  if (spec == specs.end()) {
    // make_optimizer names the unknown optimizer with a suggestion.
    optim::make_optimizer(name, params, optim::constant_schedule(0.0f));
  }
  json out = {{"valid", true}};
  out["optimizer"] = {{"name", name},
                      {"params",
                       optim::resolve_params(
                           "optimizer '" + name + "'", spec->params, params)}};
  if (scheduled) {
    optim::make_schedule(schedule, sparams);
    for (const auto& ss : optim::schedule_specs()) {
      if (ss.name == schedule) {
        out["schedule"] = {{"name", schedule},
                           {"params",
                            optim::resolve_params("schedule '" + schedule + "'",
                                                  ss.params,
                                                  sparams)}};
      }
    }
  }
  return Response::json(out);
}

Response list_models(AppContext& app) {
  return Response::json(gguf::list_models(app.roots.at(0) / "models"));
}

// POST /v1/models/download: {"repo", "revision", "name"} -> a download job
// (an `mlxt models download` child) that places <data>/models/<name>.
Response download(AppContext& app, const Request& r) {
  BodyReader body(r.json(), {"repo", "revision", "name"});
  const std::string repo = body.string("repo", true);
  std::string revision = body.string("revision", false);
  std::string name = body.string("name", false);
  body.finish();
  revision = revision.empty() ? "main" : revision;
  hub::check_repo_id(repo, revision);
  if (name.empty()) {
    name = hub::default_model_name(repo);
  }
  if (name.starts_with(".") || name.find('/') != std::string::npos ||
      name.find('\\') != std::string::npos) {
    fail(ErrorCode::invalid_config,
         "name: \"" + name + "\" must be a folder name (no '/', not hidden)",
         {.key = "name"});
  }
  const hub::HubOptions hub = hub::hub_options_from_env(app.options.hub_url);
  const fs::path out = app.roots.at(0) / "models" / name;
  if (fs::exists(out)) {
    fail(ErrorCode::conflict,
         "a model named \"" + name + "\" exists already; pick another name",
         {.file = out.string(), .key = "name"});
  }
  jobs::Job job = app.engine.new_job();
  job.kind = "download";
  job.config = {{"repo", repo},
                {"revision", revision},
                {"name", name},
                {"hub_url", hub.endpoint}};
  job.output_dir = out.string();
  // Partial files live outside the models root until complete; a resumed
  // job continues them.
  job.args = {"models",
              "download",
              repo,
              "--revision",
              revision,
              "--hub-url",
              hub.endpoint,
              "--out",
              out.string(),
              "--staging",
              (app.roots.at(0) / "downloads" / name).string(),
              "--progress",
              (fs::path(job.run_dir) / "metrics.jsonl").string()};
  return Response::json(app.engine.submit_task(job).to_json(), 202);
}

} // namespace

std::vector<Route> catalogue_routes(AppContext& app) {
  return {
      {"GET",
       "/v1/optimizers",
       "The optimizer and learning-rate schedule catalogue",
       [](const Request&) {
         return Response::json(optim::optimizer_catalogue_json());
       }},
      {"POST",
       "/v1/optimizers/validate",
       "Validate an optimizer (and schedule) block against the catalogue",
       validate_optimizer},
      {"GET",
       "/v1/models",
       "Local models under <data-dir>/models, folders and .gguf files: "
       "architecture, parameters, dtype, quantization",
       [&app](const Request&) { return list_models(app); }},
      {"POST",
       "/v1/models/download",
       "Download a model from a Hugging Face-compatible hub into "
       "<data-dir>/models as a job (body: repo, revision, name); only "
       "safetensors, JSON and tokenizer files",
       [&app](const Request& r) { return download(app, r); }},
  };
}

} // namespace mlxt::server

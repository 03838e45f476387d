// /v1/pipelines and /v1/templates (the Unified Training Platform API).
#include <algorithm>

#include "mlxt/core/error.h"
#include "mlxt/jobs/metrics_tail.h"
#include "mlxt/pipelines/stages.h"
#include "mlxt/server/body.h"
#include "mlxt/server/paths.h"
#include "mlxt/server/routes.h"

namespace mlxt::server {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Every path a pipeline names is confined like a job's, and the keys the
// server sets itself are dropped; returns those, as
// "stages[i].config.KEY".
json confine_spec(AppContext& app, pipelines::PipelineSpec& spec) {
  json ignored = json::array();
  for (size_t i = 0; i < spec.stages.size(); ++i) {
    auto& s = spec.stages[i];
    const std::string label = "stages[" + std::to_string(i) + "]";
    for (const auto& key : strip_server_owned_keys(s.config)) {
      ignored.push_back(label + ".config." + key);
    }
    if (!s.input_model.empty()) {
      s.input_model =
          confine_path(s.input_model, app.roots, label + ".input.model")
              .string();
    }
    for (const char* key :
         {"data", "resume_adapter_file", "ref_model", "reward_model"}) {
      if (s.config.contains(key) && s.config[key].is_string() &&
          !s.config[key].get<std::string>().empty()) {
        const std::string named = label + ".config." + key;
        s.config[key] =
            (std::string(key) == "reward_model"
                 ? confine_reward_model(s.config[key], app.roots, named)
                 : confine_path(s.config[key], app.roots, named))
                .string();
      }
    }
  }
  return ignored;
}

// The record with each stage's job state and progress.
json with_progress(AppContext& app, json p) {
  for (json& stage : p["stages"]) {
    stage["progress"] = nullptr;
    auto job = app.engine.job(stage.value("job_id", ""));
    if (!job) {
      continue;
    }
    stage["state"] = jobs::job_state_name(job->state);
    std::uint64_t offset = 0;
    stage["progress"] = jobs::progress_summary(
        jobs::read_metrics(fs::path(job->run_dir) / "metrics.jsonl", offset),
        job->config.value("iters", 0),
        job->state == jobs::JobState::running ? job->started_at : 0.0,
        jobs::unix_now());
    stage["output_dir"] = job->output_dir;
  }
  return p;
}

json require(AppContext& app, const std::string& id) {
  auto p = app.pipelines.get(id);
  if (!p) {
    fail(ErrorCode::not_found, "no pipeline with id \"" + id + "\"");
  }
  return *p;
}

Response create(AppContext& app, const json& body) {
  pipelines::PipelineSpec spec = pipelines::parse_pipeline_spec(body);
  const json ignored = confine_spec(app, spec);
  json p = app.pipelines.create(spec);
  if (spec.run) {
    p = app.pipelines.run(p["id"]);
  }
  p["ignored_keys"] = ignored;
  return Response::json(p, 201);
}

// {"template", "name", "model", "data", "configs": {METHOD: {...}}, "run"}:
// the template's stages, each method's config from "configs" plus the
// shared model and data.
Response from_template(AppContext& app, const Request& r) {
  BodyReader in(r.json(),
                {"template", "name", "model", "data", "configs", "run"});
  const std::string name = in.string("template", true);
  const std::string model = in.string("model", true);
  const std::string data = in.string("data", false);
  const json configs = in.object("configs");
  const bool run = in.boolean("run", false);
  const std::string pipeline_name = in.string("name", false);
  in.finish();
  const pipelines::Template* t = pipelines::find_template(name);
  if (!t) {
    std::string known;
    for (const auto& x : pipelines::templates()) {
      known += (known.empty() ? "" : ", ") + x.name;
    }
    fail(ErrorCode::not_found,
         "no template \"" + name + "\" (templates: " + known + ")",
         {.key = "template"});
  }
  for (const auto& [method, _] : configs.items()) {
    if (std::find(t->methods.begin(), t->methods.end(), method) ==
        t->methods.end()) {
      fail(ErrorCode::invalid_config,
           "template \"" + name + "\" has no " + method + " stage",
           {.key = "configs." + method});
    }
  }
  json stages = json::array();
  for (size_t i = 0; i < t->methods.size(); ++i) {
    const std::string& method = t->methods[i];
    json config = configs.value(method, json::object());
    if (!data.empty() && !config.contains("data")) {
      config["data"] = data;
    }
    json stage = {{"name", method}, {"method", method}, {"config", config}};
    stage["input"] = i == 0 ? json{{"model", model}} : json("previous");
    stages.push_back(stage);
  }
  json pipeline = {{"name", pipeline_name.empty() ? t->name : pipeline_name},
                   {"stages", stages},
                   {"run", run}};
  return create(app, pipeline);
}

// What a stage's config accepts, for /openapi.json.
json stage_config_schema() {
  std::string text =
      "A training config: the keys of `mlxt train --help-config`, without "
      "model (see input). The hand-over sets model, resume_adapter_file "
      "(after a LoRA stage) and reward_model (ppo and grpo after a reward "
      "stage); runs_dir, run_id, adapter_path, progress_bar and data_cache "
      "are the server's and are ignored. Per method:";
  for (const auto& t : pipelines::stage_types()) {
    text += " " + t.method + ": data holds " + t.data +
            (t.keys.empty() ? "" : "; keys " + t.keys) +
            (t.available ? "." : " (no trainer in this build yet).");
  }
  return {{"type", "object"}, {"description", text}};
}

json method_schema() {
  json methods = json::array();
  for (const auto& t : pipelines::stage_types()) {
    methods.push_back(t.method);
  }
  return {{"type", "string"},
          {"enum", methods},
          {"default", "sft"},
          {"description",
           "the stage type; GET /v1/templates says which this build can "
           "run"}};
}

json pipeline_schema() {
  const json input = {
      {"oneOf",
       {{{"type", "object"},
         {"properties", {{"model", {{"type", "string"}}}}},
         {"required", json::array({"model"})}},
        {{"type", "string"}, {"enum", json::array({"previous"})}}}},
      {"description",
       "a model folder or GGUF file, or \"previous\": the latest earlier "
       "stage that trains a policy (default after the first stage)"}};
  const json stage = {{"type", "object"},
                      {"properties",
                       {{"name", {{"type", "string"}}},
                        {"method", method_schema()},
                        {"config", stage_config_schema()},
                        {"input", input}}}};
  const json stages = {{"type", "array"}, {"minItems", 1}, {"items", stage}};
  return {{"type", "object"},
          {"required", json::array({"stages"})},
          {"properties",
           {{"name", {{"type", "string"}}},
            {"run", {{"type", "boolean"}, {"description", "start it now"}}},
            {"stages", stages}}}};
}

json from_template_schema() {
  std::string names;
  for (const auto& t : pipelines::templates()) {
    names += (names.empty() ? "" : ", ") + t.name;
  }
  return {{"type", "object"},
          {"required", json::array({"template", "model"})},
          {"properties",
           {{"template", {{"type", "string"}, {"description", names}}},
            {"name", {{"type", "string"}}},
            {"model",
             {{"type", "string"}, {"description", "the first stage's model"}}},
            {"data",
             {{"type", "string"},
              {"description",
               "data of every stage whose config names none (preference "
               "stages need their own: configs.dpo.data)"}}},
            {"configs",
             {{"type", "object"},
              {"additionalProperties", stage_config_schema()},
              {"description", "each method's stage config, by method"}}},
            {"run", {{"type", "boolean"}}}}}};
}

} // namespace

std::vector<Route> pipeline_routes(AppContext& app) {
  return {
      {"POST",
       "/v1/pipelines",
       "Create a pipeline of ordered stages (\"run\": true starts it)",
       [&app](const Request& r) { return create(app, r.json()); },
       false,
       pipeline_schema()},
      {"GET",
       "/v1/pipelines",
       "List pipelines (query: limit, offset)",
       [&app](const Request& r) {
         json items = json::array();
         for (auto& p :
              app.pipelines.list(r.query_int("limit", 50, 0, 1000),
                                 r.query_int("offset", 0, 0, 1 << 30))) {
           items.push_back(std::move(p));
         }
         return Response::json(
             {{"pipelines", items},
              {"total", app.engine.store().pipeline_count()}});
       }},
      {"GET",
       "/v1/pipelines/{id}",
       "A pipeline with each stage's state and progress",
       [&app](const Request& r) {
         return Response::json(
             with_progress(app, require(app, r.params.at("id"))));
       }},
      {"DELETE",
       "/v1/pipelines/{id}",
       "Delete a pipeline that is not running, with its stage jobs and "
       "their run folders",
       [&app](const Request& r) {
         app.pipelines.remove(r.params.at("id"));
         return Response::json({{"deleted", r.params.at("id")}});
       }},
      {"POST",
       "/v1/pipelines/{id}/run",
       "Start a created pipeline",
       [&app](const Request& r) {
         return Response::json(app.pipelines.run(r.params.at("id")), 202);
       }},
      {"POST",
       "/v1/pipelines/{id}/stop",
       "Stop the running stage (it checkpoints)",
       [&app](const Request& r) {
         return Response::json(app.pipelines.stop(r.params.at("id")), 202);
       }},
      {"POST",
       "/v1/pipelines/{id}/resume",
       "Continue at the first unfinished stage",
       [&app](const Request& r) {
         return Response::json(app.pipelines.resume(r.params.at("id")), 202);
       }},
      {"GET",
       "/v1/templates",
       "Workflow templates and whether each can run in this build",
       [](const Request&) {
         json list = json::array();
         for (const auto& t : pipelines::templates()) {
           list.push_back(pipelines::template_json(t));
         }
         json types = json::array();
         for (const auto& s : pipelines::stage_types()) {
           types.push_back(pipelines::stage_type_json(s));
         }
         return Response::json({{"templates", list}, {"stage_types", types}});
       }},
      {"POST",
       "/v1/pipelines/from-template",
       "Create a pipeline from a template",
       [&app](const Request& r) { return from_template(app, r); },
       false,
       from_template_schema()},
  };
}

} // namespace mlxt::server

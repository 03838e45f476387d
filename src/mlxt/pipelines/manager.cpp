#include "mlxt/pipelines/manager.h"

#include <algorithm>

#include "mlxt/config/config.h"
#include "mlxt/core/error.h"
#include "mlxt/core/suggest.h"
#include "mlxt/jobs/job.h"
#include "mlxt/pipelines/handover.h"
#include "mlxt/pipelines/stages.h"

namespace mlxt::pipelines {

using nlohmann::json;

namespace {

std::string stage_label(size_t index, const std::string& name) {
  return "stages[" + std::to_string(index) + "]" +
         (name.empty() ? "" : " (" + name + ")");
}

// Appends a problem for each key of `object` not in `allowed` ("methd"
// would otherwise make an sft stage).
void check_keys(const json& object,
                const std::vector<std::string>& allowed,
                const std::string& where,
                std::vector<std::string>& problems) {
  for (const auto& [key, _] : object.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) {
      continue;
    }
    std::string what = "unknown key";
    if (std::string near = closest_name(key, allowed); !near.empty()) {
      what += " (did you mean \"" + near + "\"?)";
    }
    problems.push_back(where + key + ": " + what);
  }
}

// The string at `key` of `object`, or `fallback` when it is missing; a
// problem naming `where` + key when it is not a string.
std::string string_at(const json& object,
                      const std::string& key,
                      const std::string& fallback,
                      const std::string& where,
                      std::vector<std::string>& problems) {
  const json value = object.value(key, json());
  if (value.is_null()) {
    return fallback;
  }
  if (!value.is_string()) {
    problems.push_back(where + key + ": expected a string, got " +
                       value.dump());
    return fallback;
  }
  return value;
}

// Validates one stage; appends its problems to `problems`.
StageSpec
parse_stage(const json& s, size_t index, std::vector<std::string>& problems) {
  StageSpec stage;
  if (!s.is_object()) {
    problems.push_back(stage_label(index, "") + ": must be an object");
    return stage;
  }
  stage.name = string_at(s,
                         "name",
                         "stage-" + std::to_string(index + 1),
                         stage_label(index, "") + ".",
                         problems);
  const std::string label = stage_label(index, stage.name);
  check_keys(s, {"name", "method", "config", "input"}, label + ".", problems);
  stage.config = s.value("config", json::object());
  if (!stage.config.is_object()) {
    problems.push_back(label + ".config: must be an object");
    stage.config = json::object();
  }
  // The stage's method is its trainer's: config.method may repeat it.
  const json own = stage.config.value("method", json());
  stage.method = string_at(s,
                           "method",
                           own.is_string() ? own.get<std::string>() : "sft",
                           label + ".",
                           problems);
  if (!own.is_null() && own != stage.method) {
    problems.push_back(label + ".config.method: " + own.dump() +
                       " differs from the stage's method \"" + stage.method +
                       "\"; give the method once");
  }
  stage.config.erase("method");
  const StageType* type = find_stage_type(stage.method);
  if (!type) {
    std::string known;
    for (const auto& t : stage_types()) {
      known += (known.empty() ? "" : ", ") + t.method;
    }
    problems.push_back(label + ".method: unknown method \"" + stage.method +
                       "\" (known: " + known + ")");
  } else if (!type->available) {
    problems.push_back(label + ".method: method \"" + stage.method +
                       "\" is not available: " + type->reason);
  }
  const json input = s.value("input", json());
  if (input.is_object() && input.contains("model")) {
    check_keys(input, {"model"}, label + ".input.", problems);
    stage.input_model =
        string_at(input, "model", "", label + ".input.", problems);
  } else if (input.is_null() && index == 0) {
    stage.input_model =
        string_at(stage.config, "model", "", label + ".config.", problems);
  } else if (!(input.is_null() || input == "previous")) {
    problems.push_back(label + ".input: must be {\"model\": PATH} or "
                               "\"previous\"");
  }
  if (index == 0 && stage.input_model.empty()) {
    problems.push_back(label + ".input: the first stage needs a model "
                               "({\"model\": PATH})");
  }
  stage.config.erase("model");
  return stage;
}

// Validates the config stage `index` will run, with the hand-over from the
// earlier stages as they are configured (their outputs do not exist yet);
// appends what the stage leaves to `earlier`.
void check_stage_config(const StageSpec& stage,
                        size_t index,
                        std::vector<EarlierStage>& earlier,
                        std::vector<std::string>& problems) {
  const std::string label = stage_label(index, stage.name);
  const std::string output =
      "(output of stages[" + std::to_string(index) + "])";
  // A stage that cannot run is handed over as configured, so that later
  // stages report only their own problems.
  json as_configured = stage.config;
  as_configured["model"] =
      stage.input_model.empty() ? output : stage.input_model;
  const StageType* type = find_stage_type(stage.method);
  if (!type || !type->available) {
    earlier.push_back({stage.method, as_configured, output});
    return; // already reported
  }
  try {
    json run = handover_config(
        stage.method, stage.config, stage.input_model, earlier, label);
    earlier.push_back(
        {stage.method,
         config::train_config_from_json(run, label + ".config").to_json(),
         output});
  } catch (const Error& e) {
    problems.push_back(e.what());
    earlier.push_back({stage.method, as_configured, output});
  }
}

} // namespace

PipelineSpec parse_pipeline_spec(const json& body) {
  PipelineSpec spec;
  std::vector<std::string> problems;
  check_keys(body, {"name", "stages", "run"}, "", problems);
  spec.name = string_at(body, "name", "", "", problems);
  if (const json run = body.value("run", json()); run.is_boolean()) {
    spec.run = run;
  } else if (!run.is_null()) {
    problems.push_back("run: expected true or false, got " + run.dump());
  }
  const json stages = body.value("stages", json());
  if (!stages.is_array() || stages.empty()) {
    problems.push_back("stages: a non-empty list of stages is required");
  } else {
    std::vector<EarlierStage> earlier;
    for (size_t i = 0; i < stages.size(); ++i) {
      spec.stages.push_back(parse_stage(stages[i], i, problems));
      check_stage_config(spec.stages.back(), i, earlier, problems);
    }
  }
  if (!problems.empty()) {
    std::string message;
    for (const auto& p : problems) {
      message += (message.empty() ? "" : "\n") + p;
    }
    fail(ErrorCode::invalid_config, message);
  }
  return spec;
}

Manager::Manager(jobs::Engine& engine) : engine_(engine) {
  engine_.on_job_end([this](const jobs::Job& job) { on_job_end(job); });
  engine_.on_job_removed([this](const jobs::Job& job) { on_job_removed(job); });
  std::lock_guard lock(mutex_);
  const long total = engine_.store().pipeline_count();
  for (json& p : engine_.store().pipelines(static_cast<int>(total), 0)) {
    const std::string state = p["state"];
    if (state != "running" && state != "stopping") {
      continue;
    }
    const json& stage = p["stages"][p["current"].get<int>()];
    if (auto job = engine_.job(stage.value("job_id", ""));
        job && jobs::is_final(job->state)) {
      on_job_end(*job);
    }
  }
}

json Manager::create(const PipelineSpec& spec) {
  json stages = json::array();
  for (const auto& s : spec.stages) {
    stages.push_back({{"name", s.name},
                      {"method", s.method},
                      {"config", s.config},
                      {"input_model", s.input_model},
                      {"state", "pending"},
                      {"job_id", ""},
                      {"reason", ""}});
  }
  json p = {{"id", jobs::new_id("pipeline")},
            {"name", spec.name},
            {"state", "created"},
            {"reason", ""},
            {"current", 0},
            {"created_at", jobs::unix_now()},
            {"stages", stages}};
  std::lock_guard lock(mutex_);
  engine_.store().put_pipeline(p);
  return p;
}

json Manager::require(const std::string& id) {
  auto p = engine_.store().pipeline(id);
  if (!p) {
    fail(ErrorCode::not_found, "no pipeline with id \"" + id + "\"");
  }
  return *p;
}

json Manager::run(const std::string& id) {
  std::lock_guard lock(mutex_);
  json p = require(id);
  if (p["state"] != "created") {
    fail(ErrorCode::conflict,
         "pipeline \"" + id + "\" is " + p["state"].get<std::string>() +
             "; run starts a created pipeline (use resume to continue one)");
  }
  p["state"] = "running";
  start_stage(p, 0);
  return require(id);
}

json Manager::stop(const std::string& id) {
  std::lock_guard lock(mutex_);
  json p = require(id);
  if (p["state"] != "running") {
    fail(ErrorCode::conflict,
         "pipeline \"" + id + "\" is " + p["state"].get<std::string>() +
             "; only a running pipeline can be stopped");
  }
  p["state"] = "stopping";
  engine_.store().put_pipeline(p);
  const std::string job_id = p["stages"][p["current"].get<int>()]["job_id"];
  engine_.stop(job_id);
  return require(id);
}

json Manager::resume(const std::string& id) {
  std::lock_guard lock(mutex_);
  json p = require(id);
  const std::string state = p["state"];
  if (state != "stopped" && state != "failed" && state != "interrupted") {
    fail(ErrorCode::conflict,
         "pipeline \"" + id + "\" is " + state +
             "; only stopped, failed or interrupted pipelines can be resumed");
  }
  p["state"] = "running";
  p["reason"] = "";
  start_stage(p, p["current"].get<int>());
  return require(id);
}

void Manager::remove(const std::string& id) {
  std::lock_guard lock(mutex_);
  json p = require(id);
  const std::string state = p["state"];
  if (state == "running" || state == "stopping") {
    fail(ErrorCode::conflict,
         "pipeline \"" + id + "\" is " + state +
             "; stop it (POST /v1/pipelines/" + id +
             "/stop) and wait until it is stopped before deleting it");
  }
  // The record goes first, so that on_job_removed finds no pipeline to
  // update while the stage jobs are deleted.
  engine_.store().remove_pipeline(id);
  for (const json& stage : p["stages"]) {
    if (const std::string job_id = stage["job_id"];
        engine_.job(job_id).has_value()) {
      engine_.remove(job_id);
    }
  }
}

std::optional<json> Manager::get(const std::string& id) {
  return engine_.store().pipeline(id);
}

std::vector<json> Manager::list(int limit, int offset) {
  return engine_.store().pipelines(limit, offset);
}

void Manager::start_stage(json& p, int index) {
  json& stage = p["stages"][index];
  const std::string label = stage_label(index, stage["name"]);
  p["current"] = index;
  const std::string job_id = stage["job_id"];
  try {
    if (auto job = engine_.job(job_id); job && jobs::is_resumable(job->state)) {
      stage["state"] = jobs::job_state_name(engine_.resume(job_id).state);
    } else if (job && !jobs::is_final(job->state)) {
      stage["state"] = jobs::job_state_name(job->state);
    } else {
      std::vector<EarlierStage> earlier;
      for (int i = 0; i < index; ++i) {
        const json& before = p["stages"][i];
        auto job = engine_.job(before["job_id"]);
        earlier.push_back({before["method"],
                           job ? job->config : json::object(),
                           job ? job->output_dir : ""});
      }
      config::TrainConfig c =
          config::train_config_from_json(handover_config(stage["method"],
                                                         stage["config"],
                                                         stage["input_model"],
                                                         earlier,
                                                         label),
                                         label + ".config");
      jobs::Job job = engine_.submit(c, p["id"], index);
      stage["job_id"] = job.id;
      stage["state"] = jobs::job_state_name(job.state);
    }
  } catch (const Error& e) {
    stage["state"] = "failed";
    stage["reason"] = e.what();
    p["state"] = "failed";
    // Hand-over and config errors name the stage already.
    const std::string what = e.what();
    p["reason"] = what.starts_with(label) ? what : label + ": " + what;
  }
  engine_.store().put_pipeline(p);
}

std::optional<json> Manager::pipeline_of_stage_job(const jobs::Job& job) {
  std::optional<json> p = engine_.store().pipeline(job.pipeline_id);
  if (!p || (*p)["stages"][job.stage]["job_id"] != job.id) {
    return std::nullopt;
  }
  return p;
}

void Manager::on_job_end(const jobs::Job& job) {
  if (job.pipeline_id.empty()) { // not a stage: no lock needed
    return;
  }
  std::lock_guard lock(mutex_);
  std::optional<json> found = pipeline_of_stage_job(job);
  if (!found) {
    return;
  }
  json& p = *found;
  json& stage = p["stages"][job.stage];
  stage["state"] = jobs::job_state_name(job.state);
  stage["reason"] = job.reason;
  const std::string label = stage_label(job.stage, stage["name"]);
  const bool stopping = p["state"] == "stopping";
  switch (job.state) {
  case jobs::JobState::completed:
    if (job.stage + 1 < static_cast<int>(p["stages"].size())) {
      p["current"] = job.stage + 1;
      if (stopping) {
        p["state"] = "stopped";
      } else {
        start_stage(p, job.stage + 1);
        return;
      }
    } else {
      p["state"] = "completed";
    }
    break;
  case jobs::JobState::stopped:
    p["state"] = "stopped";
    p["reason"] = label + ": " + job.reason;
    break;
  case jobs::JobState::interrupted:
    p["state"] = "interrupted";
    p["reason"] = label + ": " + job.reason;
    break;
  default:
    p["state"] = "failed";
    p["reason"] = label + ": " + job.reason;
    break;
  }
  engine_.store().put_pipeline(p);
}

// A deleted stage job never ends, so without this its pipeline would wait
// for it forever. The stage runs again (as a new job) when the pipeline is
// resumed.
void Manager::on_job_removed(const jobs::Job& job) {
  if (job.pipeline_id.empty()) { // not a stage: no lock needed
    return;
  }
  std::lock_guard lock(mutex_);
  std::optional<json> found = pipeline_of_stage_job(job);
  if (!found) {
    return;
  }
  json& p = *found;
  json& stage = p["stages"][job.stage];
  const std::string what = "its job " + job.id + " was deleted";
  stage["state"] = "deleted";
  stage["job_id"] = "";
  stage["reason"] = what;
  const std::string state = p["state"];
  if (p["current"] == job.stage &&
      (state == "running" || state == "stopping")) {
    p["state"] = state == "running" ? "failed" : "stopped";
    p["reason"] = stage_label(job.stage, stage["name"]) + ": " + what +
                  "; resume runs the stage again";
  }
  engine_.store().put_pipeline(p);
}

} // namespace mlxt::pipelines

// Pipelines: ordered training stages run one after another as jobs of the
// job engine, each stage's input model being a path or the previous stage's
// output. Pipeline records live in the job store, so a restarted server
// continues each pipeline at its first unfinished stage.
//
// Each stage runs the trainer of its method with the config handover.h
// builds from what earlier stages left (the policy, the reward model).
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mlxt/jobs/engine.h"

namespace mlxt::pipelines {

struct StageSpec {
  std::string name;
  std::string method;      // a stage type (stages.h)
  nlohmann::json config;   // the training config, without model and method
  std::string input_model; // a model folder; empty: the previous output
};

struct PipelineSpec {
  std::string name;
  std::vector<StageSpec> stages;
  bool run = false; // start it once created
};

//! Parses and validates a POST /v1/pipelines body: {"name", "stages": [{
//! "name", "method", "config": {...}, "input": {"model": PATH} |
//! "previous"}], "run": bool}. The first stage's input defaults to its
//! config's "model",
//! later ones to "previous"; config.method may repeat the stage's method.
//! Each stage's config is checked as it will run, hand-over included.
//! Throws Error(invalid_config) listing every problem, one per line, each
//! naming the stage and key (a method without a trainer names the stage and
//! the method).
PipelineSpec parse_pipeline_spec(const nlohmann::json& body);

class Manager {
public:
  //! Registers with `engine` (job ends and deletions) and continues
  //! pipelines a previous server left running (their stage jobs were
  //! interrupted or finished).
  explicit Manager(jobs::Engine& engine);

  //! Records a new pipeline (state "created"); returns its record.
  nlohmann::json create(const PipelineSpec& spec);
  //! Starts a created pipeline at its first stage.
  nlohmann::json run(const std::string& id);
  //! Stops the running stage (it checkpoints); the pipeline becomes
  //! stopped when the stage job has.
  nlohmann::json stop(const std::string& id);
  //! Continues a stopped, failed or interrupted pipeline at its first
  //! unfinished stage (resuming that stage's job from its checkpoint);
  //! finished stages never run again.
  nlohmann::json resume(const std::string& id);

  //! Deletes a pipeline that is not running or stopping, with its stage
  //! jobs and their run folders (outputs included). Error(not_found),
  //! Error(conflict).
  void remove(const std::string& id);

  std::optional<nlohmann::json> get(const std::string& id);
  std::vector<nlohmann::json> list(int limit, int offset);

private:
  void on_job_end(const jobs::Job& job);
  void on_job_removed(const jobs::Job& job);
  //! The pipeline of stage job `job` when that stage still runs as `job`,
  //! or nullopt (the pipeline gone, or the stage moved on to another job).
  //! Called with mutex_ held.
  std::optional<nlohmann::json> pipeline_of_stage_job(const jobs::Job& job);
  void start_stage(nlohmann::json& pipeline, int index);
  nlohmann::json require(const std::string& id);

  jobs::Engine& engine_;
  // Recursive: stopping a queued stage ends its job at once, which calls
  // on_job_end on this thread.
  std::recursive_mutex mutex_;
};

} // namespace mlxt::pipelines

// /v1/jobs: submit, list, inspect, follow (SSE), stop, resume, delete.
#include <fstream>

#include "mlxt/config/config.h"
#include "mlxt/core/error.h"
#include "mlxt/jobs/metrics_tail.h"
#include "mlxt/server/app.h"
#include "mlxt/server/paths.h"
#include "mlxt/server/routes.h"

namespace mlxt::server {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

jobs::Job require_job(AppContext& app, const Request& r) {
  auto job = app.engine.job(r.params.at("id"));
  if (!job) {
    fail(ErrorCode::not_found, "no job with id \"" + r.params.at("id") + "\"");
  }
  return *job;
}

// The run folder's files while the trainer writes it: hidden entries (a
// checkpoint being written in ".step-N.tmp-PID/", a file's atomic-write
// temporary) are left out, and so is what vanishes during the walk (a
// temporary folder renamed into place, an old checkpoint retired), which
// would otherwise fail the request.
json artifacts(const jobs::Job& job) {
  json files = json::array();
  std::error_code ec;
  const fs::path root = job.run_dir;
  for (auto it = fs::recursive_directory_iterator(root, ec);
       !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->path().filename().string().starts_with(".")) {
      it.disable_recursion_pending();
      continue;
    }
    std::error_code gone;
    if (!it->is_regular_file(gone)) {
      continue;
    }
    const std::uintmax_t bytes = it->file_size(gone);
    if (!gone) {
      files.push_back({{"path", fs::relative(it->path(), root).string()},
                       {"bytes", bytes}});
    }
  }
  return files;
}

json progress(const jobs::Job& job) {
  std::uint64_t offset = 0;
  auto records =
      jobs::read_metrics(fs::path(job.run_dir) / "metrics.jsonl", offset);
  if (job.kind == "download") {
    return jobs::download_progress_summary(records);
  }
  return jobs::progress_summary(
      records,
      job.config.value("iters", 0),
      job.state == jobs::JobState::running ? job.started_at : 0.0,
      jobs::unix_now());
}

std::string sse(const std::string& event, const json& data) {
  return "event: " + event + "\ndata: " + data.dump() + "\n\n";
}

json job_summary(const jobs::Job& job) {
  json j = job.to_json();
  j.erase("config");
  return j;
}

Response submit(AppContext& app, const Request& r) {
  json body = r.json();
  const std::vector<std::string> ignored = strip_server_owned_keys(body);
  config::TrainConfig config =
      config::train_config_from_json(body, "request body");
  config.model = confine_path(config.model, app.roots, "model").string();
  config.data = confine_path(config.data, app.roots, "data").string();
  if (!config.resume_adapter_file.empty()) {
    config.resume_adapter_file = confine_path(config.resume_adapter_file,
                                              app.roots,
                                              "resume_adapter_file")
                                     .string();
  }
  if (!config.ref_model.empty()) {
    config.ref_model =
        confine_path(config.ref_model, app.roots, "ref_model").string();
  }
  if (!config.reward_model.empty()) {
    config.reward_model =
        confine_reward_model(config.reward_model, app.roots, "reward_model")
            .string();
  }
  json j = app.engine.submit(config).to_json();
  j["ignored_keys"] = ignored;
  return Response::json(j, 201);
}

Response list(AppContext& app, const Request& r) {
  jobs::JobQuery q;
  if (auto s = r.query_value("state"); !s.empty()) {
    q.state = jobs::parse_job_state(s);
    if (!q.state) {
      throw HttpError{400,
                      "invalid_query",
                      "unknown state \"" + s + "\"",
                      {{"key", "state"}}};
    }
  }
  q.pipeline_id = r.query_value("pipeline_id");
  q.limit = r.query_int("limit", 50, 0, 1000);
  q.offset = r.query_int("offset", 0, 0, 1 << 30);
  jobs::JobPage page = app.engine.store().jobs(q);
  json items = json::array();
  for (const auto& job : page.jobs) {
    items.push_back(job_summary(job));
  }
  return Response::json({{"jobs", items},
                         {"total", page.total},
                         {"limit", q.limit},
                         {"offset", q.offset}});
}

Response show(AppContext& app, const Request& r) {
  jobs::Job job = require_job(app, r);
  json j = job.to_json();
  j["progress"] = progress(job);
  j["artifacts"] = artifacts(job);
  return Response::json(j);
}

Response metrics(AppContext& app, const Request& r) {
  jobs::Job job = require_job(app, r);
  std::uint64_t offset =
      static_cast<std::uint64_t>(r.query_int("offset", 0, 0, INT32_MAX));
  const std::string event = r.query_value("event");
  json records = json::array();
  for (auto& rec :
       jobs::read_metrics(fs::path(job.run_dir) / "metrics.jsonl", offset)) {
    if (event.empty() || rec.value("event", "") == event) {
      records.push_back(std::move(rec));
    }
  }
  return Response::json({{"records", records}, {"next_offset", offset}});
}

// Follows a job: a "state" event at each state change, a "metrics" event per
// metrics.jsonl record, and "end" once the job is stopped, completed, failed
// or interrupted and every record has been sent.
Response events(AppContext& app, const Request& r) {
  jobs::Job first = require_job(app, r);
  Response res;
  res.content_type = "text/event-stream";
  const std::string id = first.id;
  jobs::Engine* engine = &app.engine;
  std::atomic<bool>* stopping = &app.stopping;
  res.stream = [engine, stopping, id](const StreamWriter& write) {
    std::uint64_t offset = 0;
    std::string last_state;
    std::uint64_t version = engine->version();
    auto last_write = std::chrono::steady_clock::now();
    for (;;) {
      // The state is read before the records: once a final state is seen,
      // the trainer has exited and every record is in the file.
      auto job = engine->job(id);
      if (!job) {
        write(sse("end", {{"id", id}, {"state", "deleted"}}));
        return;
      }
      for (const auto& rec : jobs::read_metrics(
               fs::path(job->run_dir) / "metrics.jsonl", offset)) {
        if (!write(sse("metrics", rec))) {
          return;
        }
        last_write = std::chrono::steady_clock::now();
      }
      const std::string state = jobs::job_state_name(job->state);
      if (state != last_state) {
        if (!write(sse("state", job_summary(*job)))) {
          return;
        }
        last_state = state;
        last_write = std::chrono::steady_clock::now();
      }
      if (jobs::is_final(job->state)) {
        write(sse("end", job_summary(*job)));
        return;
      }
      // A comment now and then keeps proxies from closing an idle stream.
      if (std::chrono::steady_clock::now() - last_write >
          std::chrono::seconds(10)) {
        if (!write(": keep-alive\n\n")) {
          return;
        }
        last_write = std::chrono::steady_clock::now();
      }
      // A client that has gone ends the stream now, not at the next
      // keep-alive: its connection holds a thread.
      if (stopping->load() || !write("")) {
        return;
      }
      // Metrics lines are polled; state changes wake the wait at once.
      version =
          engine->wait_for_change(version, std::chrono::milliseconds(250));
    }
  };
  return res;
}

Response logs(AppContext& app, const Request& r) {
  jobs::Job job = require_job(app, r);
  const long tail = r.query_int("tail_bytes", 65536, 0, 16 << 20);
  std::ifstream in(fs::path(job.run_dir) / "train.log", std::ios::binary);
  std::string text;
  if (in) {
    in.seekg(0, std::ios::end);
    const long size = static_cast<long>(in.tellg());
    in.seekg(std::max(0L, size - tail));
    text.assign(std::istreambuf_iterator<char>(in),
                std::istreambuf_iterator<char>());
  }
  Response res;
  res.content_type = "text/plain; charset=utf-8";
  res.body = std::move(text);
  return res;
}

Response artifact_list(AppContext& app, const Request& r) {
  return Response::json({{"artifacts", artifacts(require_job(app, r))}});
}

Response artifact_file(AppContext& app, const Request& r) {
  jobs::Job job = require_job(app, r);
  const fs::path root = fs::weakly_canonical(job.run_dir);
  const fs::path file = confine_path(r.params.at("path"), {root}, "path");
  if (!fs::is_regular_file(file)) {
    fail(ErrorCode::not_found,
         "job \"" + job.id + "\" has no artifact \"" + r.params.at("path") +
             "\"");
  }
  Response res;
  res.content_type = "application/octet-stream";
  res.stream = [file](const StreamWriter& write) {
    std::ifstream in(file, std::ios::binary);
    std::vector<char> buffer(1 << 20);
    while (in.read(buffer.data(), buffer.size()) || in.gcount() > 0) {
      if (!write(std::string(buffer.data(), in.gcount()))) {
        return;
      }
    }
  };
  return res;
}

} // namespace

std::vector<Route> job_routes(AppContext& app) {
  auto bind = [&app](Response (*f)(AppContext&, const Request&)) {
    return [&app, f](const Request& r) { return f(app, r); };
  };
  return {
      {"POST",
       "/v1/jobs",
       "Submit a training job (body: a training config)",
       bind(submit)},
      {"GET",
       "/v1/jobs",
       "List jobs (query: state, pipeline_id, limit, offset)",
       bind(list)},
      {"GET",
       "/v1/jobs/{id}",
       "A job: state, progress, latest metrics, ETA, artifacts",
       bind(show)},
      {"DELETE",
       "/v1/jobs/{id}",
       "Delete a job that is not running",
       [&app](const Request& r) {
         app.engine.remove(r.params.at("id"));
         return Response::json({{"deleted", r.params.at("id")}});
       }},
      {"GET",
       "/v1/jobs/{id}/metrics",
       "Metrics records (query: event, offset)",
       bind(metrics)},
      {"GET",
       "/v1/jobs/{id}/events",
       "Live state and metrics as server-sent events",
       bind(events)},
      {"GET",
       "/v1/jobs/{id}/logs",
       "The trainer's log (query: tail_bytes)",
       bind(logs)},
      {"GET",
       "/v1/jobs/{id}/artifacts",
       "Files in the job's run folder",
       bind(artifact_list)},
      {"GET",
       "/v1/jobs/{id}/artifacts/{path*}",
       "One file of the run folder",
       bind(artifact_file)},
      {"POST",
       "/v1/jobs/{id}/stop",
       "Stop a job (the trainer checkpoints first)",
       [&app](const Request& r) {
         return Response::json(app.engine.stop(r.params.at("id")).to_json(),
                               202);
       }},
      {"POST",
       "/v1/jobs/{id}/resume",
       "Resume a stopped, failed or interrupted job from its checkpoint",
       [&app](const Request& r) {
         return Response::json(app.engine.resume(r.params.at("id")).to_json(),
                               202);
       }},
  };
}

} // namespace mlxt::server

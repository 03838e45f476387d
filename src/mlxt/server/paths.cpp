#include "mlxt/server/paths.h"

#include "mlxt/core/json_file.h"
#include "mlxt/server/http.h"

namespace mlxt::server {

namespace fs = std::filesystem;

namespace {

bool inside(const fs::path& path, const fs::path& root) {
  auto [r, p] =
      std::mismatch(root.begin(), root.end(), path.begin(), path.end());
  return r == root.end();
}

[[noreturn]] void refuse(const std::string& requested,
                         const std::string& key,
                         const std::string& why) {
  throw HttpError{403,
                  "forbidden_path",
                  key + ": \"" + requested + "\" " + why,
                  {{"key", key}}};
}

// Where `path` (absolute, lexically normal) leads: the deepest part that
// exists (as an entry: a dangling symbolic link counts) resolved with every
// link followed, then the missing rest, which holds no link nor "..". Empty
// when the existing part cannot be resolved (a dangling or looping link).
fs::path resolve(const fs::path& path) {
  fs::path existing = path;
  fs::path missing;
  std::error_code ec;
  while (!fs::exists(fs::symlink_status(existing, ec)) &&
         existing.has_relative_path()) {
    missing =
        missing.empty() ? existing.filename() : existing.filename() / missing;
    existing = existing.parent_path();
  }
  fs::path resolved = fs::canonical(existing, ec);
  if (ec) {
    return {};
  }
  return missing.empty() ? resolved : resolved / missing;
}

} // namespace

fs::path confine_path(const std::string& requested,
                      const std::vector<fs::path>& roots,
                      const std::string& key) {
  if (requested.empty() || requested.find('\0') != std::string::npos) {
    throw HttpError{400,
                    "invalid_path",
                    key + ": a path must be non-empty and contain no NUL byte",
                    {{"key", key}}};
  }
  const fs::path asked = fs::path(requested).lexically_normal();
  if (asked.is_relative() && *asked.begin() == "..") {
    refuse(requested, key, "climbs above the data directory");
  }
  fs::path p = (roots.at(0) / asked).lexically_normal();
  if (!p.has_filename()) {
    p = p.parent_path(); // "dir/" names dir
  }
  // Lexical first, then resolution: ".." is gone before any link is
  // followed, and every link of the part that exists is followed (a link
  // after a missing component and ".." too, which weakly_canonical leaves),
  // so a link out of a root is judged by where it leads. Callers open the
  // path returned, not the one requested.
  const fs::path resolved = resolve(p);
  for (const fs::path& root : roots) {
    if (!resolved.empty() && inside(resolved, root)) {
      return resolved;
    }
  }
  refuse(requested,
         key,
         "is outside the folders this server may read and write (its data "
         "directory and --allow-root folders)");
}

fs::path confine_output_path(const std::string& requested,
                             const std::vector<fs::path>& roots,
                             const std::vector<fs::path>& server_owned,
                             const std::string& key) {
  const fs::path out = confine_path(requested, roots, key);
  for (const fs::path& owned : server_owned) {
    if (inside(out, owned)) {
      refuse(requested,
             key,
             "is the server's own (" + owned.filename().string() +
                 "): requests may not write the job store or run folders");
    }
  }
  return out;
}

fs::path confine_reward_model(const std::string& requested,
                              const std::vector<fs::path>& roots,
                              const std::string& key) {
  const fs::path folder = confine_path(requested, roots, key);
  const fs::path adapter_config = folder / "adapter_config.json";
  if (!fs::is_regular_file(adapter_config)) {
    return folder;
  }
  const nlohmann::json saved = read_json_file(adapter_config);
  if (saved.contains("model") && saved["model"].is_string()) {
    confine_path(saved["model"].get<std::string>(),
                 roots,
                 key + " (its adapter_config.json model)");
  }
  return folder;
}

std::vector<std::string> strip_server_owned_keys(nlohmann::json& config) {
  std::vector<std::string> removed;
  if (!config.is_object()) {
    return removed; // the config check reports it
  }
  for (const char* key :
       {"runs_dir", "run_id", "adapter_path", "progress_bar", "data_cache"}) {
    if (config.erase(key) > 0) {
      removed.push_back(key);
    }
  }
  return removed;
}

} // namespace mlxt::server

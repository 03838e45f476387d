#include "mlxt/server/paths.h"

#include "mlxt/server/http.h"

namespace mlxt::server {

namespace fs = std::filesystem;

namespace {

bool inside(const fs::path& path, const fs::path& root) {
  auto [r, p] =
      std::mismatch(root.begin(), root.end(), path.begin(), path.end());
  return r == root.end();
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
  fs::path p(requested);
  if (p.is_relative()) {
    p = roots.at(0) / p;
  }
  // weakly_canonical resolves every symbolic link of the part that exists,
  // so a link pointing out of a root is judged by where it leads.
  std::error_code ec;
  fs::path resolved = fs::weakly_canonical(p, ec);
  if (!ec) {
    for (const fs::path& root : roots) {
      if (inside(resolved, root)) {
        return resolved;
      }
    }
  }
  throw HttpError{403,
                  "forbidden_path",
                  key + ": \"" + requested +
                      "\" is outside the folders this server may read and "
                      "write (its data directory and --allow-root folders)",
                  {{"key", key}}};
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

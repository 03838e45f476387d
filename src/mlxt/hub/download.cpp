#include "mlxt/hub/download.h"

#include <chrono>
#include <cstdlib>
#include <regex>
#include <thread>

#include "mlxt/core/atomic_file.h"
#include "mlxt/core/error.h"
#include "mlxt/core/sha256.h"
#include "mlxt/hub/http_get.h"

namespace mlxt::hub {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::vector<std::string> auth_headers(const HubOptions& hub) {
  if (hub.token.empty()) {
    return {};
  }
  return {"Authorization: Bearer " + hub.token};
}

// Why a response failed, in words a user can act on.
[[noreturn]] void fail_response(const GetResult& r,
                                const std::string& what,
                                const std::string& url) {
  if (r.status == 404) {
    fail(ErrorCode::not_found,
         what + ": the hub has no such item (" + url + ")");
  }
  std::string why = r.status ? "HTTP " + std::to_string(r.status) : r.error;
  if (r.status == 401 || r.status == 403) {
    why += " (a gated or private repository needs HF_TOKEN)";
  }
  fail(ErrorCode::io, what + ": " + why + " (" + url + ")");
}

// The "next" URL of a Link header (the hub pages long listings).
std::string next_link(const GetResult& r) {
  auto it = r.headers.find("link");
  if (it == r.headers.end()) {
    return "";
  }
  static const std::regex next(R"(<([^>]+)>\s*;\s*rel="?next"?)");
  std::smatch m;
  return std::regex_search(it->second, m, next) ? m[1].str() : "";
}

// The digest the hub gives for `f`, checked against the file's bytes.
void verify(const HubFile& f, const fs::path& file) {
  const std::uint64_t size = fs::file_size(file);
  if (size != f.size) {
    fail(ErrorCode::invalid_model,
         "downloaded " + std::to_string(size) + " bytes, the hub lists " +
             std::to_string(f.size),
         {.file = f.path});
  }
  if (!f.sha256.empty()) {
    if (const std::string got = sha256_file_hex(file); got != f.sha256) {
      fail(ErrorCode::invalid_model,
           "SHA-256 mismatch: the hub lists " + f.sha256 +
               ", the download has " + got,
           {.file = f.path});
    }
  } else if (!f.git_oid.empty()) {
    if (const std::string got = git_blob_sha1_file_hex(file);
        got != f.git_oid) {
      fail(ErrorCode::invalid_model,
           "git blob SHA-1 mismatch: the hub lists " + f.git_oid +
               ", the download has " + got,
           {.file = f.path});
    }
  }
}

} // namespace

HubOptions hub_options_from_env(const std::string& hub_url) {
  HubOptions hub;
  if (!hub_url.empty()) {
    hub.endpoint = hub_url;
  } else if (const char* e = std::getenv("HF_ENDPOINT"); e && *e) {
    hub.endpoint = e;
  }
  while (hub.endpoint.ends_with("/")) {
    hub.endpoint.pop_back();
  }
  if (!hub.endpoint.starts_with("https://") &&
      !hub.endpoint.starts_with("http://")) {
    fail(ErrorCode::invalid_config,
         "hub URL \"" + hub.endpoint +
             "\" must start with https:// (or http:// for a hub on this "
             "network)",
         {.key = "hub_url"});
  }
  if (const char* t = std::getenv("HF_TOKEN"); t && *t) {
    hub.token = t;
  }
  return hub;
}

void check_repo_id(const std::string& repo, const std::string& revision) {
  static const std::regex id(
      R"([A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)?)");
  if (!std::regex_match(repo, id) || repo.find("..") != std::string::npos) {
    fail(ErrorCode::invalid_config,
         "repo: \"" + repo +
             "\" is not a repository id (\"owner/name\": letters, digits, "
             "'.', '_', '-')",
         {.key = "repo"});
  }
  static const std::regex rev(R"([A-Za-z0-9][A-Za-z0-9._/-]*)");
  if (!std::regex_match(revision, rev) ||
      revision.find("..") != std::string::npos) {
    fail(ErrorCode::invalid_config,
         "revision: \"" + revision + "\" is not a branch, tag or commit",
         {.key = "revision"});
  }
}

std::string default_model_name(const std::string& repo) {
  std::string name = repo;
  if (auto slash = name.find('/'); slash != std::string::npos) {
    name.replace(slash, 1, "--");
  }
  return name;
}

bool is_allowed_file(const std::string& path, std::string* why) {
  auto refuse = [&](const std::string& reason) {
    if (why) {
      *why = reason;
    }
    return false;
  };
  if (path.find('/') != std::string::npos ||
      path.find('\\') != std::string::npos) {
    return refuse("in a subfolder");
  }
  if (path.empty() || path.starts_with(".")) {
    return refuse("a hidden file");
  }
  for (const char* suffix : {".safetensors", ".json", ".tiktoken", ".jinja"}) {
    if (path.ends_with(suffix)) {
      return true;
    }
  }
  for (const char* name : {"tokenizer.model", "merges.txt", "vocab.txt"}) {
    if (path == name) {
      return true;
    }
  }
  return refuse("not a safetensors, JSON or tokenizer file (weights are "
                "only loaded from safetensors; pickles and code are never "
                "fetched)");
}

RepoListing list_repo(const HubOptions& hub,
                      const std::string& repo,
                      const std::string& revision) {
  check_repo_id(repo, revision);
  RepoListing listing;
  listing.skipped = json::array();
  std::string url = hub.endpoint + "/api/models/" + repo + "/tree/" +
                    url_encode(revision) + "?recursive=true";
  while (!url.empty()) {
    const GetResult r = http_get(url, auth_headers(hub));
    if (!r.error.empty() || r.status != 200) {
      fail_response(r, "listing " + repo + "@" + revision, url);
    }
    const json entries = json::parse(r.body, nullptr, false);
    if (!entries.is_array()) {
      fail(ErrorCode::io,
           "listing " + repo + "@" + revision +
               ": the hub's answer is not a JSON array (" + url + ")");
    }
    for (const json& e : entries) {
      if (!e.is_object() || e.value("type", "") != "file") {
        continue;
      }
      HubFile f;
      f.path = e.value("path", "");
      std::string why;
      if (!is_allowed_file(f.path, &why)) {
        listing.skipped.push_back({{"path", f.path}, {"reason", why}});
        continue;
      }
      f.size = e.value("size", std::uint64_t{0});
      if (e.contains("lfs") && e["lfs"].is_object()) {
        f.sha256 = e["lfs"].value("oid", "");
        f.size = e["lfs"].value("size", f.size);
      } else {
        f.git_oid = e.value("oid", "");
      }
      listing.files.push_back(std::move(f));
    }
    url = next_link(r);
  }
  if (listing.files.empty()) {
    fail(ErrorCode::invalid_model,
         repo + "@" + revision +
             " has no safetensors, JSON or tokenizer files to fetch");
  }
  return listing;
}

void download_model(const HubOptions& hub,
                    const DownloadRequest& request,
                    const std::function<void(const json&)>& report) {
  if (fs::exists(request.out)) {
    fail(ErrorCode::conflict,
         "the model folder already exists",
         {.file = request.out.string()});
  }
  RepoListing listing = list_repo(hub, request.repo, request.revision);
  std::uint64_t total = 0;
  json names = json::array();
  for (const HubFile& f : listing.files) {
    total += f.size;
    names.push_back(f.path);
  }
  report({{"event", "download_plan"},
          {"repo", request.repo},
          {"revision", request.revision},
          {"files", names},
          {"total_bytes", total},
          {"skipped", listing.skipped}});
  fs::create_directories(request.staging);
  std::uint64_t done = 0;
  // One event per file in place, whether verified now or by an earlier try.
  auto report_verified = [&](const HubFile& f, json detail) {
    done += f.size;
    detail.update({{"event", "verified"},
                   {"file", f.path},
                   {"size", f.size},
                   {"done_bytes", done},
                   {"total_bytes", total}});
    report(detail);
  };
  for (const HubFile& f : listing.files) {
    const fs::path final_file = request.staging / f.path;
    const fs::path partial = request.staging / (f.path + ".partial");
    if (fs::exists(final_file)) {
      verify(f, final_file); // finished by an earlier attempt
      report_verified(f, {{"earlier", true}});
      continue;
    }
    const std::string url = hub.endpoint + "/" + request.repo + "/resolve/" +
                            url_encode(request.revision) + "/" +
                            url_encode(f.path);
    auto last_report = std::chrono::steady_clock::now();
    auto on_bytes = [&](std::uint64_t have) {
      const auto now = std::chrono::steady_clock::now();
      if (now - last_report > std::chrono::milliseconds(500)) {
        last_report = now;
        report({{"event", "download"},
                {"file", f.path},
                {"bytes", have},
                {"size", f.size},
                {"done_bytes", done + have},
                {"total_bytes", total}});
      }
    };
    for (int attempt = 1;; ++attempt) {
      std::error_code ec;
      const std::uint64_t have =
          fs::exists(partial) ? fs::file_size(partial, ec) : 0;
      if (have == f.size && f.size > 0) {
        break; // all bytes arrived before the connection dropped
      }
      if (have > f.size) {
        fs::remove(partial); // not the file the hub lists now
      }
      const GetResult r =
          http_get_to_file(url, auth_headers(hub), partial, on_bytes);
      if (r.error.empty() && (r.status == 200 || r.status == 206)) {
        if (!fs::exists(partial)) {
          write_file_atomic(partial, ""); // an empty file has no body
        }
        break;
      }
      // A cut transfer or a server error is retried from where it stopped;
      // a refusal (4xx) is final.
      const bool retry = r.status == 0 || r.status >= 500 ||
                         (r.status == 200 || r.status == 206);
      if (!retry || attempt >= hub.attempts) {
        fail_response(r, "downloading " + f.path, url);
      }
      report(
          {{"event", "retry"},
           {"file", f.path},
           {"attempt", attempt},
           {"error",
            r.error.empty() ? "HTTP " + std::to_string(r.status) : r.error}});
      std::this_thread::sleep_for(std::chrono::milliseconds(200 * attempt));
    }
    try {
      verify(f, partial);
    } catch (const Error&) {
      fs::remove(partial); // wrong bytes: a retry starts the file over
      throw;
    }
    fsync_file(partial);
    fs::rename(partial, final_file);
    report_verified(f,
                    {{f.sha256.empty() ? "git_oid" : "sha256",
                      f.sha256.empty() ? f.git_oid : f.sha256}});
  }
  fsync_dir(request.staging);
  if (!request.out.parent_path().empty()) {
    fs::create_directories(request.out.parent_path());
  }
  fs::rename(request.staging, request.out);
  fsync_dir(request.out.parent_path().empty() ? fs::path(".")
                                              : request.out.parent_path());
  report({{"event", "download_done"},
          {"out", request.out.string()},
          {"files", static_cast<std::uint64_t>(listing.files.size())},
          {"total_bytes", total}});
}

} // namespace mlxt::hub

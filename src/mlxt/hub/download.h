// Downloading a model from a Hugging Face-compatible hub: the repository's
// file list (GET /api/models/{repo}/tree/{revision}), only safetensors,
// JSON and tokenizer files fetched (never pickles or code), each transfer
// continued with Range after an interruption, each file checked against the
// hub's digest (SHA-256 for LFS files, git blob SHA-1 for the others), and
// the model folder placed at once by renaming a complete staging folder.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mlxt::hub {

struct HubOptions {
  std::string endpoint = "https://huggingface.co"; // no trailing slash
  std::string token;                               // sent as a Bearer token
  int attempts = 5; // tries per file before a transfer error ends the job
};

//! `hub_url` when set, else $HF_ENDPOINT, else https://huggingface.co; the
//! token from $HF_TOKEN.
HubOptions hub_options_from_env(const std::string& hub_url = "");

//! Error(invalid_config) unless `repo` is "name" or "owner/name" (letters,
//! digits, ".", "_", "-"; no "..") and `revision` a branch, tag or commit.
void check_repo_id(const std::string& repo, const std::string& revision);

//! The folder name a repository gets in a models root: "owner--name".
std::string default_model_name(const std::string& repo);

//! Whether a repository file is fetched: top-level *.safetensors, *.json,
//! tokenizer.model, *.tiktoken, merges.txt, vocab.txt and *.jinja files.
//! `why` gets the reason a file is not.
bool is_allowed_file(const std::string& path, std::string* why = nullptr);

struct HubFile {
  std::string path;
  std::uint64_t size = 0;
  std::string sha256;  // LFS files
  std::string git_oid; // git blob SHA-1 (non-LFS files)
};

struct RepoListing {
  std::vector<HubFile> files; // to fetch
  nlohmann::json skipped;     // [{"path", "reason"}]
};

//! The repository's files at `revision`, split into those fetched and
//! those skipped. Error(not_found) for an unknown repository or revision,
//! Error(io) when the hub cannot be reached or answers badly.
RepoListing list_repo(const HubOptions& hub,
                      const std::string& repo,
                      const std::string& revision);

struct DownloadRequest {
  std::string repo;
  std::string revision = "main";
  std::filesystem::path out;     // the model folder; must not exist yet
  std::filesystem::path staging; // partial files; kept for a retry
};

//! Downloads the allowed files of `request.repo` into `request.staging`
//! (continuing any partial files there), verifies each, then renames the
//! staging folder to `request.out`. `report` gets progress records
//! ({"event": "download_plan" | "download" | "verified" | "download_done",
//! ...}). A digest mismatch is Error(invalid_model) naming the file, whose
//! bytes are removed; `request.out` is only ever created complete.
void download_model(const HubOptions& hub,
                    const DownloadRequest& request,
                    const std::function<void(const nlohmann::json&)>& report);

} // namespace mlxt::hub

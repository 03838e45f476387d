#include "mlxt/ckpt/checkpoint.h"

#include <cstdio>
#include <unistd.h>

#include "mlxt/core/atomic_file.h"
#include "mlxt/core/error.h"
#include "mlxt/core/failpoint.h"
#include "mlxt/core/json_file.h"
#include "mlxt/core/safetensors.h"
#include "mlxt/core/sha256.h"

namespace mlxt::ckpt {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

[[noreturn]] void damaged(const fs::path& file, const std::string& why) {
  fail(ErrorCode::invalid_checkpoint, why, {.file = file.string()});
}

json describe_files(const fs::path& dir) {
  json files = json::object();
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with(".")) {
      continue; // a temporary file of an atomic write
    }
    files[name] = {{"size", fs::file_size(entry.path())},
                   {"sha256", sha256_file_hex(entry.path())}};
  }
  return files;
}

void remove_quietly(const fs::path& path) {
  std::error_code ignored;
  fs::remove_all(path, ignored);
}

} // namespace

std::string checkpoint_folder_name(long step) {
  char name[32];
  std::snprintf(name, sizeof(name), "step-%08ld", step);
  return name;
}

fs::path write_checkpoint(const fs::path& checkpoints_dir,
                          const Checkpoint& checkpoint) {
  const fs::path final_dir =
      checkpoints_dir / checkpoint_folder_name(checkpoint.step);
  const fs::path temp_dir =
      checkpoints_dir / ("." + checkpoint_folder_name(checkpoint.step) +
                         ".tmp-" + std::to_string(::getpid()));
  try {
    fs::create_directories(checkpoints_dir);
    remove_quietly(temp_dir);
    fs::create_directory(temp_dir);
    for (const auto& [stem, params] : checkpoint.tensors) {
      save_safetensors_file(temp_dir / (stem + ".safetensors"), params);
      failpoint("checkpoint.file");
    }
    for (const auto& [stem, document] : checkpoint.documents) {
      write_file_atomic(temp_dir / (stem + ".json"), document.dump(2) + "\n");
      failpoint("checkpoint.file");
    }
    json manifest = {{"format_version", kFormatVersion},
                     {"step", checkpoint.step},
                     {"files", describe_files(temp_dir)}};
    write_file_atomic(temp_dir / kManifest, manifest.dump(2) + "\n");
    fsync_dir(temp_dir);
    failpoint("checkpoint.before_rename");
    if (fs::exists(final_dir)) {
      fs::remove_all(final_dir);
    }
    fs::rename(temp_dir, final_dir);
    fsync_dir(checkpoints_dir);
    failpoint("checkpoint.before_commit");
    json marker = {{"manifest_sha256", sha256_file_hex(final_dir / kManifest)}};
    write_file_atomic(final_dir / kCommitMarker, marker.dump() + "\n");
    return final_dir;
  } catch (const fs::filesystem_error& e) {
    remove_quietly(temp_dir);
    fail(ErrorCode::io,
         std::string("writing the checkpoint failed: ") + e.code().message(),
         {.file = final_dir.string()});
  } catch (...) {
    remove_quietly(temp_dir);
    throw;
  }
}

void verify_checkpoint(const fs::path& dir) {
  const fs::path marker = dir / kCommitMarker;
  if (!fs::exists(marker)) {
    damaged(marker, "missing: the checkpoint was never committed");
  }
  const fs::path manifest_file = dir / kManifest;
  if (!fs::exists(manifest_file)) {
    damaged(manifest_file, "missing");
  }
  json committed = read_json_file(marker, ErrorCode::invalid_checkpoint);
  if (committed.value("manifest_sha256", "") !=
      sha256_file_hex(manifest_file)) {
    damaged(manifest_file, "does not match the digest in COMMITTED");
  }
  json manifest = read_json_file(manifest_file, ErrorCode::invalid_checkpoint);
  if (manifest.value("format_version", 0) != kFormatVersion) {
    damaged(manifest_file,
            "format_version " +
                manifest.value("format_version", json()).dump() + " is not " +
                std::to_string(kFormatVersion));
  }
  for (const auto& [name, expected] : manifest.at("files").items()) {
    const fs::path file = dir / name;
    if (!fs::exists(file)) {
      damaged(file, "missing");
    }
    const auto size = fs::file_size(file);
    const auto expected_size = expected.at("size").get<uintmax_t>();
    if (size != expected_size) {
      damaged(file,
              (size < expected_size ? "truncated: " : "wrong size: ") +
                  std::to_string(size) + " bytes, the manifest says " +
                  std::to_string(expected_size));
    }
    if (sha256_file_hex(file) != expected.at("sha256").get<std::string>()) {
      damaged(file, "altered: its SHA-256 differs from the manifest");
    }
  }
}

Checkpoint read_checkpoint(const fs::path& dir) {
  verify_checkpoint(dir);
  json manifest =
      read_json_file(dir / kManifest, ErrorCode::invalid_checkpoint);
  Checkpoint checkpoint;
  checkpoint.step = manifest.at("step").get<long>();
  for (const auto& [name, _] : manifest.at("files").items()) {
    const fs::path file = dir / name;
    const std::string stem = file.stem().string();
    if (file.extension() == ".safetensors") {
      checkpoint.tensors[stem] = load_safetensors_file(file);
    } else if (file.extension() == ".json") {
      checkpoint.documents[stem] =
          read_json_file(file, ErrorCode::invalid_checkpoint);
    }
  }
  return checkpoint;
}

} // namespace mlxt::ckpt

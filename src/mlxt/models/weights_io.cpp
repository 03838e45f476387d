#include "mlxt/models/weights_io.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "mlxt/core/atomic_file.h"
#include "mlxt/core/error.h"
#include "mlxt/core/json_file.h"
#include "mlxt/core/safetensors.h"

namespace mlxt::models {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

// The context of an error about `file` (and a tensor or JSON key in it).
ErrorContext in_file(std::string file, std::string key = {}) {
  return ErrorContext{std::move(file), 0, std::move(key)};
}

constexpr const char* kSingleFile = "model.safetensors";
constexpr const char* kIndexFile = "model.safetensors.index.json";

// "model-00001-of-00003.safetensors": the shard names save_weights writes.
const std::regex& shard_name_pattern() {
  static const std::regex pattern(R"(model-\d{5}-of-\d{5}\.safetensors)");
  return pattern;
}

std::string shard_name(size_t index, size_t count) {
  char name[64];
  std::snprintf(
      name, sizeof(name), "model-%05zu-of-%05zu.safetensors", index, count);
  return name;
}

// At most `limit` names, then "and N more".
std::string name_list(const std::vector<std::string>& names,
                      size_t limit = 20) {
  std::string out;
  for (size_t i = 0; i < names.size() && i < limit; ++i) {
    out += (i ? ", " : "") + names[i];
  }
  if (names.size() > limit) {
    out += ", and " + std::to_string(names.size() - limit) + " more";
  }
  return out;
}

// Regular, non-hidden files of `dir` whose names end with one of `suffixes`,
// sorted. Hidden files are skipped: they are temporaries of atomic writes.
std::vector<fs::path>
files_with_suffix(const fs::path& dir,
                  const std::vector<std::string>& suffixes) {
  std::vector<fs::path> out;
  for (const auto& entry : fs::directory_iterator(dir)) {
    std::string name = entry.path().filename().string();
    if (!entry.is_regular_file() || name.starts_with(".")) {
      continue;
    }
    for (const auto& suffix : suffixes) {
      if (name.size() > suffix.size() && name.ends_with(suffix)) {
        out.push_back(entry.path());
        break;
      }
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Adds the tensors of `file` to `weights`; a name already present is an error
// because two files of one folder must not disagree about a tensor.
void merge_file(const fs::path& file, Params& weights) {
  for (auto& [name, array] : load_safetensors_file(file)) {
    if (!weights.emplace(name, std::move(array)).second) {
      fail(ErrorCode::invalid_model,
           "tensor appears in more than one .safetensors file of the folder; "
           "remove the extra file",
           in_file(file.string(), name));
    }
  }
}

// The weight_map of the index: tensor name -> shard file name.
std::map<std::string, std::string> read_weight_map(const fs::path& index_file) {
  json root = read_json_file(index_file);
  if (!root.is_object() || !root.contains("weight_map") ||
      !root["weight_map"].is_object()) {
    fail(ErrorCode::invalid_model,
         "expected an object with \"weight_map\": {tensor name: shard file}",
         in_file(index_file.string(), "weight_map"));
  }
  std::map<std::string, std::string> weight_map;
  for (const auto& [name, shard] : root["weight_map"].items()) {
    std::string key = "weight_map." + name;
    if (!shard.is_string()) {
      fail(ErrorCode::invalid_model,
           "is a JSON " + std::string(shard.type_name()) +
               "; expected the name of a shard file",
           in_file(index_file.string(), key));
    }
    auto file = shard.get<std::string>();
    // Shards live next to the index; a path could escape the model folder.
    if (file.empty() || file != fs::path(file).filename().string() ||
        file == "." || file == "..") {
      fail(ErrorCode::invalid_model,
           "shard \"" + file +
               "\" is not a plain file name in the model folder",
           in_file(index_file.string(), key));
    }
    weight_map[name] = file;
  }
  if (weight_map.empty()) {
    fail(ErrorCode::invalid_model,
         "weight_map is empty; expected at least one tensor",
         in_file(index_file.string(), "weight_map"));
  }
  return weight_map;
}

// Loads the shards named by the index after checking, from the headers alone,
// that shards and weight_map agree exactly.
Params load_indexed(const fs::path& dir, const fs::path& index_file) {
  auto weight_map = read_weight_map(index_file);
  std::map<std::string, std::set<std::string>> listed_by_shard;
  for (const auto& [name, shard] : weight_map) {
    listed_by_shard[shard].insert(name);
  }

  std::vector<std::string> missing_shards;
  for (const auto& [shard, names] : listed_by_shard) {
    if (!fs::is_regular_file(dir / shard)) {
      missing_shards.push_back(shard + " (" + std::to_string(names.size()) +
                               " tensors)");
    }
  }
  if (!missing_shards.empty()) {
    fail(ErrorCode::invalid_model,
         "weight_map names shard files that do not exist: " +
             name_list(missing_shards, missing_shards.size()) +
             "; download the missing shards or fix the index",
         in_file(index_file.string()));
  }

  std::vector<std::string> absent;   // listed, but not in its shard
  std::vector<std::string> unlisted; // in a shard, but not listed for it
  for (const auto& [shard, names] : listed_by_shard) {
    SafetensorsHeader header = read_safetensors_header(dir / shard);
    std::set<std::string> present;
    for (const auto& tensor : header.tensors) {
      present.insert(tensor.name);
      if (!names.contains(tensor.name)) {
        unlisted.push_back(tensor.name + " (in " + shard + ")");
      }
    }
    for (const auto& name : names) {
      if (!present.contains(name)) {
        absent.push_back(name + " (expected in " + shard + ")");
      }
    }
  }
  if (!absent.empty() || !unlisted.empty()) {
    std::string message = "weight_map and shards disagree:";
    if (!absent.empty()) {
      message += " " + std::to_string(absent.size()) +
                 " listed tensors are missing from their shard: " +
                 name_list(absent, absent.size()) + ";";
    }
    if (!unlisted.empty()) {
      message += " " + std::to_string(unlisted.size()) +
                 " tensors in shards are not listed in weight_map: " +
                 name_list(unlisted, unlisted.size()) + ";";
    }
    message += " re-download the model or regenerate the index";
    fail(ErrorCode::invalid_model, message, in_file(index_file.string()));
  }

  Params weights;
  for (const auto& [shard, names] : listed_by_shard) {
    merge_file(dir / shard, weights);
  }
  return weights;
}

[[noreturn]] void refuse_pickle(const fs::path& dir,
                                const std::vector<fs::path>& pickle_files) {
  fail(ErrorCode::unsupported,
       "the folder holds only pickle weights (" +
           pickle_files.front().filename().string() +
           (pickle_files.size() > 1
                ? " and " + std::to_string(pickle_files.size() - 1) + " more"
                : std::string()) +
           "); they are refused because loading a pickle can run arbitrary "
           "code. Convert them to safetensors with `python -c \"from "
           "transformers import AutoModelForCausalLM; "
           "AutoModelForCausalLM.from_pretrained('" +
           dir.string() +
           "').save_pretrained('OUT', safe_serialization=True)\"`",
       in_file(dir.string()));
}

// Removes `file` if present; a failure to remove a stale file is an error
// because it would be loaded next time.
void remove_stale(const fs::path& file) {
  std::error_code ec;
  if (fs::remove(file, ec) || !ec) {
    return;
  }
  fail(ErrorCode::io,
       "cannot remove a stale weight file of an earlier save: " + ec.message(),
       in_file(file.string()));
}

} // namespace

Params load_weights(const fs::path& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    fail(ErrorCode::not_found,
         "model folder does not exist",
         in_file(dir.string()));
  }
  if (!fs::is_directory(dir, ec)) {
    fail(ErrorCode::invalid_model,
         "is not a folder; expected a model folder holding model.safetensors "
         "or model.safetensors.index.json",
         in_file(dir.string()));
  }
  if (fs::is_regular_file(dir / kIndexFile)) {
    return load_indexed(dir, dir / kIndexFile);
  }
  Params weights;
  if (fs::is_regular_file(dir / kSingleFile)) {
    merge_file(dir / kSingleFile, weights);
    return weights;
  }
  // Like mlx-lm, accept unindexed shards or a differently named file.
  auto files = files_with_suffix(dir, {".safetensors"});
  for (const auto& file : files) {
    merge_file(file, weights);
  }
  if (!files.empty()) {
    return weights;
  }
  auto pickles = files_with_suffix(dir, {".bin", ".pt", ".pth"});
  if (!pickles.empty()) {
    refuse_pickle(dir, pickles);
  }
  fail(ErrorCode::not_found,
       "no weights in the model folder; expected model.safetensors, "
       "model.safetensors.index.json with its shards, or *.safetensors files",
       in_file(dir.string()));
}

void save_weights(const fs::path& dir,
                  const Params& weights,
                  uint64_t max_shard_bytes) {
  if (weights.empty()) {
    fail(ErrorCode::internal,
         "save_weights received no tensors",
         in_file(dir.string()));
  }
  if (max_shard_bytes == 0) {
    fail(ErrorCode::invalid_config,
         "max_shard_bytes is 0; expected a positive byte count",
         in_file(dir.string()));
  }
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    fail(ErrorCode::io,
         "cannot create the folder: " + ec.message(),
         in_file(dir.string()));
  }

  // Greedy fill in name order; a tensor larger than the limit gets a shard
  // of its own.
  std::vector<Params> shards(1);
  uint64_t shard_bytes = 0;
  uint64_t total_bytes = 0;
  for (const auto& [name, array] : weights) {
    uint64_t bytes = array.nbytes();
    if (!shards.back().empty() && shard_bytes + bytes > max_shard_bytes) {
      shards.emplace_back();
      shard_bytes = 0;
    }
    shards.back().emplace(name, array);
    shard_bytes += bytes;
    total_bytes += bytes;
  }

  const std::map<std::string, std::string> metadata{{"format", "mlx"}};
  std::set<std::string> written;
  if (shards.size() == 1) {
    save_safetensors_file(dir / kSingleFile, weights, metadata);
    written.insert(kSingleFile);
  } else {
    json weight_map = json::object();
    for (size_t i = 0; i < shards.size(); ++i) {
      std::string name = shard_name(i + 1, shards.size());
      save_safetensors_file(dir / name, shards[i], metadata);
      written.insert(name);
      for (const auto& [tensor, array] : shards[i]) {
        weight_map[tensor] = name;
      }
    }
    // Written after its shards, so it never names a shard not yet on disk.
    // Sorted keys and indent 4, as mlx-lm writes it.
    json index = {{"metadata", {{"total_size", total_bytes}}},
                  {"weight_map", weight_map}};
    write_file_atomic(dir / kIndexFile, index.dump(4) + "\n");
    written.insert(kIndexFile);
  }

  // Stale files of an earlier save go last: the index first, since the
  // loader prefers it to model.safetensors.
  if (!written.contains(kIndexFile)) {
    remove_stale(dir / kIndexFile);
  }
  for (const auto& entry : fs::directory_iterator(dir)) {
    std::string name = entry.path().filename().string();
    bool ours =
        name == kSingleFile || std::regex_match(name, shard_name_pattern());
    if (ours && !written.contains(name)) {
      remove_stale(entry.path());
    }
  }
  fsync_dir(dir);
}

} // namespace mlxt::models

#include "mlxt/train/checkpointing.h"

#include <algorithm>
#include <ostream>
#include <set>

#include "mlxt/ckpt/checkpoint_dir.h"
#include "mlxt/core/error.h"
#include "mlxt/core/json_file.h"
#include "mlxt/core/sha256.h"

namespace mlxt::train {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// The keys of state.json that the loop writes; the others are the method's
// data cursor.
const std::set<std::string> kLoopStateKeys = {"iteration",
                                              "batch_index",
                                              "skipped_in_a_row",
                                              "val_loss",
                                              "exact",
                                              "fingerprint",
                                              "method_state"};

// Regular files of `path` (itself when a file), sorted by name.
std::vector<fs::path> files_of(const fs::path& path) {
  std::vector<fs::path> files;
  if (fs::is_regular_file(path)) {
    files.push_back(path);
  } else if (fs::is_directory(path)) {
    for (const auto& entry : fs::directory_iterator(path)) {
      if (entry.is_regular_file() &&
          !entry.path().filename().string().starts_with(".")) {
        files.push_back(entry.path());
      }
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

// Digest of the named files' contents (names included); absent files count
// as absent.
std::string digest_of(const fs::path& dir,
                      const std::vector<std::string>& names) {
  std::string all;
  for (const auto& name : names) {
    if (fs::is_regular_file(dir / name)) {
      all += name + ":" + sha256_file_hex(dir / name) + "\n";
    }
  }
  return sha256_hex(all);
}

// Model identity without reading gigabytes of weights: config.json's digest
// plus the name and size of every weight file.
std::string model_digest(const fs::path& model) {
  std::string all;
  for (const auto& file : files_of(model)) {
    const std::string name = file.filename().string();
    const std::string ext = file.extension().string();
    if (name == "config.json") {
      all += name + ":" + sha256_file_hex(file) + "\n";
    } else if (ext == ".safetensors" || ext == ".gguf") {
      all += name + ":" + std::to_string(fs::file_size(file)) + "\n";
    }
  }
  if (fs::is_regular_file(model)) { // a single .gguf file
    all += model.filename().string() + ":" + sha256_file_hex(model);
  }
  return sha256_hex(all);
}

std::string dataset_digest(const fs::path& data) {
  std::string all;
  for (const auto& file : files_of(data)) {
    all += file.filename().string() + ":" + sha256_file_hex(file) + "\n";
  }
  return sha256_hex(all);
}

std::vector<mx::array> take_named(const Params& saved,
                                  const std::vector<std::string>& names,
                                  const std::vector<mx::array>& like,
                                  const std::string& file) {
  std::vector<mx::array> out;
  for (size_t i = 0; i < names.size(); ++i) {
    auto it = saved.find(names[i]);
    if (it == saved.end()) {
      fail(ErrorCode::invalid_checkpoint,
           "has no tensor '" + names[i] +
               "'; it was written for another model, method or optimizer",
           {.file = file, .key = names[i]});
    }
    if (it->second.shape() != like[i].shape() ||
        it->second.dtype() != like[i].dtype()) {
      fail(ErrorCode::invalid_checkpoint,
           "tensor '" + names[i] +
               "' has another shape or dtype than this run's",
           {.file = file, .key = names[i]});
    }
    out.push_back(it->second);
  }
  if (saved.size() != names.size()) {
    fail(ErrorCode::invalid_checkpoint,
         "holds " + std::to_string(saved.size()) + " tensors, this run has " +
             std::to_string(names.size()),
         {.file = file});
  }
  return out;
}

} // namespace

json run_fingerprint(const config::TrainConfig& c) {
  const fs::path model = c.model;
  json f = {
      {"model", model_digest(model)},
      {"tokenizer",
       digest_of(
           fs::is_directory(model) ? model : model.parent_path(),
           {"tokenizer.json", "tokenizer_config.json", "tokenizer.model"})},
      {"dataset", dataset_digest(c.data)},
      {"batch_size", c.batch_size},
      {"max_seq_length", c.max_seq_length},
      {"grad_accumulation_steps", c.grad_accumulation_steps},
      {"pack_sequences", c.pack_sequences},
      {"seed", c.seed},
      {"fine_tune_type", config::to_string(c.fine_tune_type)},
      {"optimizer", c.optimizer},
      {"world_size", 1}};
  // Only streaming runs add keys, so older fingerprints stay valid.
  if (c.streaming) {
    f["streaming"] = true;
    f["data_shard_tokens"] = c.data_shard_tokens;
  }
  return f;
}

bool check_fingerprint(const json& saved, const json& current, bool force) {
  bool differs = false;
  for (const auto& [key, value] : saved.items()) {
    json now = current.contains(key) ? current.at(key) : json(nullptr);
    if (now == value) {
      continue;
    }
    differs = true;
    if (!force) {
      fail(ErrorCode::invalid_checkpoint,
           "changed since the checkpoint (was " + value.dump() + ", now " +
               now.dump() +
               "); an exact resume needs the same inputs. Pass --force to "
               "resume anyway (the run is then marked as not exact)",
           {.key = key});
    }
  }
  return differs;
}

ckpt::Checkpoint make_training_checkpoint(const CheckpointNames& names,
                                          const TrainState& state,
                                          const LoopPosition& position,
                                          const json& config,
                                          const json& fingerprint) {
  ckpt::Checkpoint c;
  c.step = position.iteration;
  c.tensors["trainable"] = zip_params(names.trainable, state.trainable);
  c.tensors["optimizer"] = zip_params(names.optimizer, state.optimizer_state);
  c.tensors["loop"] = {{"updates", state.step}, {"rng_key", state.key}};
  json& doc = c.documents["state"];
  doc = position.data_cursor;
  doc.update(
      json{{"iteration", position.iteration},
           {"batch_index", position.batch_index},
           {"skipped_in_a_row", position.skipped_in_a_row},
           {"val_loss",
            position.val_loss ? json(*position.val_loss) : json(nullptr)},
           {"exact", position.exact},
           {"fingerprint", fingerprint}});
  if (!position.method_state.is_null()) {
    doc["method_state"] = position.method_state;
  }
  c.documents["config"] = config;
  return c;
}

void restore_training_checkpoint(const ckpt::Checkpoint& checkpoint,
                                 const CheckpointNames& names,
                                 TrainState& state,
                                 LoopPosition& position) {
  auto tensors = [&](const std::string& stem) -> const Params& {
    auto it = checkpoint.tensors.find(stem);
    if (it == checkpoint.tensors.end()) {
      fail(ErrorCode::invalid_checkpoint,
           "has no " + stem + ".safetensors",
           {.file = stem + ".safetensors"});
    }
    return it->second;
  };
  state.trainable = take_named(tensors("trainable"),
                               names.trainable,
                               state.trainable,
                               "trainable.safetensors");
  state.optimizer_state = take_named(tensors("optimizer"),
                                     names.optimizer,
                                     state.optimizer_state,
                                     "optimizer.safetensors");
  auto loop = take_named(tensors("loop"),
                         {"rng_key", "updates"},
                         {state.key, state.step},
                         "loop.safetensors");
  state.key = loop[0];
  state.step = loop[1];
  state.grad_accum.clear();
  state.accum_tokens = mx::array(0.0f);
  auto state_doc = checkpoint.documents.find("state");
  if (state_doc == checkpoint.documents.end()) {
    fail(ErrorCode::invalid_checkpoint,
         "has no state.json; it is not a training checkpoint",
         {.file = "state.json"});
  }
  const json& s = state_doc->second;
  position.iteration = s.at("iteration").get<long>();
  position.batch_index = s.at("batch_index").get<long>();
  position.skipped_in_a_row = s.at("skipped_in_a_row").get<int>();
  position.val_loss = s.at("val_loss").is_null()
                          ? std::nullopt
                          : std::optional(s.at("val_loss").get<double>());
  position.exact = s.at("exact").get<bool>();
  position.method_state = s.value("method_state", json(nullptr));
  // What the loop did not write is the method's data cursor.
  position.data_cursor = json::object();
  for (const auto& [key, value] : s.items()) {
    if (!kLoopStateKeys.contains(key)) {
      position.data_cursor[key] = value;
    }
  }
}

std::optional<fs::path>
best_checkpoint_by_val_loss(const fs::path& checkpoints_dir) {
  std::optional<fs::path> best;
  double best_loss = 0.0;
  if (!fs::is_directory(checkpoints_dir)) {
    return best;
  }
  for (const auto& entry : fs::directory_iterator(checkpoints_dir)) {
    const fs::path state = entry.path() / "state.json";
    if (!ckpt::checkpoint_step(entry.path()) ||
        !fs::exists(entry.path() / ckpt::kCommitMarker) || !fs::exists(state)) {
      continue;
    }
    try {
      json s = read_json_file(state, ErrorCode::invalid_checkpoint);
      if (s.contains("val_loss") && s.at("val_loss").is_number() &&
          (!best || s.at("val_loss").get<double>() < best_loss)) {
        best = entry.path();
        best_loss = s.at("val_loss").get<double>();
      }
    } catch (const Error&) {
      // A damaged checkpoint is never the best one.
    }
  }
  return best;
}

fs::path checkpoints_dir(const fs::path& run_dir) {
  return run_dir / "checkpoints";
}

fs::path resolve_resume_checkpoint(const fs::path& path, std::ostream& log) {
  if (fs::exists(path / ckpt::kManifest)) {
    ckpt::verify_checkpoint(path);
    return path;
  }
  if (!fs::is_directory(path)) {
    fail(ErrorCode::not_found,
         "no run folder or checkpoint to resume",
         {.file = path.string()});
  }
  ckpt::LatestCheckpoint latest =
      ckpt::find_latest_checkpoint(checkpoints_dir(path));
  for (const auto& removed : latest.removed) {
    log << "resume: removed the incomplete checkpoint " << removed.string()
        << "\n";
  }
  for (const auto& reason : latest.rejected) {
    log << "resume: skipped a damaged checkpoint: " << reason << "\n";
  }
  if (!latest.dir) {
    fail(ErrorCode::not_found,
         "has no complete checkpoint to resume from",
         {.file = checkpoints_dir(path).string()});
  }
  return *latest.dir;
}

} // namespace mlxt::train

#include "mlxt/train/methods/reward_model.h"

#include "mlxt/core/error.h"
#include "mlxt/core/json_file.h"
#include "mlxt/core/safetensors.h"
#include "mlxt/gguf/import.h"
#include "mlxt/models/scalar_head.h"
#include "mlxt/models/weights_io.h"
#include "mlxt/train/lora.h"

namespace mlxt::train {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

void check_head(const mx::array& score,
                int hidden_size,
                const std::string& source) {
  if (score.shape() != mx::Shape{1, hidden_size}) {
    fail(ErrorCode::invalid_model,
         std::string(models::kScoreWeight) + " must be (1, " +
             std::to_string(hidden_size) + "), found ndim " +
             std::to_string(score.ndim()) + " with " +
             std::to_string(score.size()) + " elements",
         {.file = source, .key = models::kScoreWeight});
  }
}

} // namespace

OpenedRewardModel open_reward_model(const fs::path& path) {
  const bool classifier =
      !gguf::is_gguf_path(path) && fs::exists(path / "config.json") &&
      models::is_sequence_classifier(read_json_file(path / "config.json"));
  if (!classifier) {
    return {gguf::open_model(path), std::nullopt};
  }
  models::Model model{models::load_model_args(path),
                      models::load_weights(path)};
  auto head = model.weights.find(models::kScoreWeight);
  if (head == model.weights.end()) {
    fail(ErrorCode::invalid_model,
         "config.json names a sequence classifier but the weights have no " +
             std::string(models::kScoreWeight),
         {.file = path.string()});
  }
  mx::array score = head->second;
  model.weights.erase(head);
  check_head(score, model.args.hidden_size, path.string());
  model.weights = models::check_weights(
      model.args, std::move(model.weights), path.string());
  return {{std::move(model), tokenizer::Tokenizer::load(path)}, score};
}

mx::array load_score_head(const fs::path& adapter_dir, int hidden_size) {
  const fs::path file = adapter_dir / kScoreHeadFile;
  if (!fs::exists(file)) {
    fail(ErrorCode::not_found,
         "no score head: a LoRA reward model keeps score.weight in this file "
         "beside its adapters",
         {.file = file.string()});
  }
  Params loaded = load_safetensors_file(file);
  auto head = loaded.find(models::kScoreWeight);
  if (head == loaded.end() || loaded.size() != 1) {
    fail(ErrorCode::invalid_model,
         "expected exactly one tensor, " + std::string(models::kScoreWeight),
         {.file = file.string()});
  }
  check_head(head->second, hidden_size, file.string());
  return mx::astype(head->second, mx::float32);
}

RewardScorer load_reward_scorer(const fs::path& path, const std::string& key) {
  if (!fs::exists(path)) {
    fail(ErrorCode::not_found,
         "no reward model here: give the folder a method: reward run wrote",
         {.file = path.string(), .key = key});
  }
  const fs::path adapter_config = path / "adapter_config.json";
  if (!fs::exists(adapter_config)) {
    OpenedRewardModel rm = open_reward_model(path);
    if (!rm.score) {
      fail(ErrorCode::invalid_model,
           "not a reward model: config.json does not name a "
           "*ForSequenceClassification with score.weight (a full reward run "
           "writes one; a LoRA run writes adapters with score.safetensors)",
           {.file = path.string(), .key = key});
    }
    rm.opened.model.weights.insert_or_assign(models::kScoreWeight, *rm.score);
    return {std::move(rm.opened), 0.0f};
  }
  const json saved = read_json_file(adapter_config);
  if (!saved.contains("model") || !saved["model"].is_string()) {
    fail(ErrorCode::invalid_model,
         "a LoRA reward model's adapter_config.json must name its base as "
         "`model`",
         {.file = adapter_config.string(), .key = "model"});
  }
  const LoraSpec spec = read_adapter_config(path);
  OpenedRewardModel rm = open_reward_model(saved["model"].get<std::string>());
  Params& weights = rm.opened.model.weights;
  for (auto& [name, value] :
       load_adapters(path, rm.opened.model.args, weights)) {
    weights.insert_or_assign(name, value);
  }
  weights.insert_or_assign(
      models::kScoreWeight,
      load_score_head(path, rm.opened.model.args.hidden_size));
  return {std::move(rm.opened), spec.scale};
}

void save_score_head(const fs::path& dir,
                     const std::string& file_name,
                     const mx::array& score) {
  fs::create_directories(dir);
  save_safetensors_file(dir / file_name, {{models::kScoreWeight, score}});
}

} // namespace mlxt::train

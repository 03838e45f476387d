#include "mlxt/train/methods/reward_model.h"

#include "mlxt/core/error.h"
#include "mlxt/core/json_file.h"
#include "mlxt/core/safetensors.h"
#include "mlxt/gguf/import.h"
#include "mlxt/models/scalar_head.h"
#include "mlxt/models/weights_io.h"

namespace mlxt::train {

namespace fs = std::filesystem;

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

void save_score_head(const fs::path& dir,
                     const std::string& file_name,
                     const mx::array& score) {
  fs::create_directories(dir);
  save_safetensors_file(dir / file_name, {{models::kScoreWeight, score}});
}

} // namespace mlxt::train

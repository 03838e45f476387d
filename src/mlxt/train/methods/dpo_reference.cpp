#include "mlxt/train/methods/dpo_reference.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "mlxt/core/error.h"
#include "mlxt/core/sha256.h"

namespace mlxt::train {

namespace fs = std::filesystem;

namespace {

bool is_lora(const config::TrainConfig& c) {
  return c.fine_tune_type == config::FineTuneType::lora;
}

// The policy and the reference must score the same token ids: the same
// number of tokens, and each id the same token.
void check_same_vocabulary(const tokenizer::Tokenizer& policy,
                           const tokenizer::Tokenizer& reference,
                           const std::string& ref_path) {
  if (auto difference = tokenizer::vocabulary_difference(policy, reference)) {
    fail(ErrorCode::invalid_config,
         "the reference model's vocabulary differs from the policy's (" +
             *difference +
             "); DPO compares both models' log-probs of the same token ids, "
             "so ref_model needs the policy's tokenizer",
         {.file = ref_path, .key = "ref_model"});
  }
}

// The weight files of a model folder (config.json, *.safetensors, *.gguf)
// or a single file, by content.
std::string weights_digest(const fs::path& model) {
  if (fs::is_regular_file(model)) {
    return sha256_file_hex(model);
  }
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(model)) {
    const fs::path& p = entry.path();
    if (entry.is_regular_file() &&
        (p.filename() == "config.json" || p.extension() == ".safetensors" ||
         p.extension() == ".gguf")) {
      files.push_back(p);
    }
  }
  std::sort(files.begin(), files.end());
  std::string all;
  for (const auto& file : files) {
    all += file.filename().string() + ":" + sha256_file_hex(file) + "\n";
  }
  return sha256_hex(all);
}

} // namespace

std::string reference_kind(const config::TrainConfig& c) {
  if (c.method == config::TrainMethod::dpo && !needs_reference(c.loss_type)) {
    return "none";
  }
  if (!c.ref_model.empty()) {
    return "ref_model";
  }
  if (!is_lora(c)) {
    return "starting_weights";
  }
  return c.resume_adapter_file.empty() ? "base_without_adapters"
                                       : "base_with_starting_adapters";
}

DpoReference make_reference(const config::TrainConfig& c,
                            const gguf::ModelWithTokenizer& policy,
                            const ParamSplit& split) {
  const mx::Dtype compute = config::to_mx_dtype(c.compute_dtype);
  const std::string kind = reference_kind(c);
  if (kind == "none") {
    return {{ReferenceFrom::none, std::nullopt}, {}};
  }
  if (kind == "ref_model") {
    gguf::ModelWithTokenizer ref = gguf::open_model(c.ref_model);
    check_same_vocabulary(policy.tokenizer, ref.tokenizer, c.ref_model);
    return {{ReferenceFrom::ref_weights, ref.model.args},
            frozen_weights(ref.model.weights, compute, kReferencePrefix)};
  }
  if (kind == "starting_weights") {
    // The trainable arrays' initial values: the base, with the
    // resume_adapter_file adapters merged when given.
    return {{ReferenceFrom::ref_weights, policy.model.args},
            frozen_weights(split.trainable, compute, kReferencePrefix)};
  }
  DpoReference reference{{ReferenceFrom::without_adapters, std::nullopt}, {}};
  if (kind == "base_with_starting_adapters") {
    // The starting adapters as they are before the first update: the
    // trainable arrays' initial values (arrays are immutable, so this holds
    // them, not a second copy, until the optimizer replaces the trainable).
    for (const auto& [name, value] : split.trainable) {
      reference.frozen.insert_or_assign(kReferencePrefix + name, value);
    }
  }
  return reference;
}

std::string reference_identity(const config::TrainConfig& c) {
  nlohmann::json j = {{"kind", reference_kind(c)},
                      {"compute_dtype", config::to_string(c.compute_dtype)}};
  j["weights"] = weights_digest(c.ref_model.empty() ? c.model : c.ref_model);
  if (c.ref_model.empty() && !c.resume_adapter_file.empty()) {
    // The starting adapters, and the scale they are applied at (LoRA: the
    // config's; a full fine-tune merges them at their adapter_config's).
    const fs::path file = c.resume_adapter_file;
    j["adapters"] = sha256_file_hex(file);
    j["lora_scale"] = c.lora_parameters.scale;
    if (fs::path config = file.parent_path() / "adapter_config.json";
        fs::is_regular_file(config)) {
      j["adapter_config"] = sha256_file_hex(config);
    }
  }
  return sha256_hex(j.dump());
}

} // namespace mlxt::train

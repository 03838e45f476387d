#include "mlxt/models/scalar_head.h"

#include "mlxt/core/error.h"
#include "mlxt/models/transformer.h"

namespace mlxt::models {

namespace {

constexpr std::string_view kClassifierSuffix = "ForSequenceClassification";

// transformers' class prefix of each supported model_type.
std::string class_prefix(const std::string& model_type) {
  if (model_type == "llama") {
    return "Llama";
  }
  if (model_type == "mistral") {
    return "Mistral";
  }
  if (model_type == "qwen2") {
    return "Qwen2";
  }
  if (model_type == "qwen3") {
    return "Qwen3";
  }
  fail(ErrorCode::unsupported,
       "no sequence-classification class for model_type " + model_type,
       {.key = "model_type"});
}

} // namespace

mx::array init_score_weight(const ModelArgs& args, uint64_t seed) {
  const float std = args.config.value("initializer_range", 0.02f);
  return mx::random::normal(
      {1, args.hidden_size}, mx::float32, 0.0f, std, mx::random::key(seed));
}

mx::array score_tokens(const Params& weights, const mx::array& hidden) {
  const mx::array w = mx::astype(param(weights, kScoreWeight), mx::float32);
  // (B, T, D) @ (D, 1) -> (B, T, 1) -> (B, T)
  return mx::squeeze(
      mx::matmul(mx::astype(hidden, mx::float32), mx::transpose(w)), -1);
}

mx::array
score_at(const Params& weights, const mx::array& hidden, const mx::array& at) {
  // Gather each row's hidden state first: (B, 1, D), then project.
  const int B = hidden.shape(0);
  const mx::array index =
      mx::broadcast_to(mx::reshape(mx::astype(at, mx::int32), {B, 1, 1}),
                       {B, 1, hidden.shape(2)});
  const mx::array picked = mx::take_along_axis(hidden, index, 1);
  return mx::squeeze(score_tokens(weights, picked), -1);
}

mx::array sequence_scores(const ModelArgs& args,
                          const Params& weights,
                          const mx::array& tokens,
                          const mx::array& last,
                          nn::ForwardContext& ctx) {
  return score_at(weights, forward_hidden(args, weights, tokens, ctx), last);
}

bool is_sequence_classifier(const nlohmann::json& config) {
  if (!config.contains("architectures") ||
      !config["architectures"].is_array()) {
    return false;
  }
  for (const auto& name : config["architectures"]) {
    if (name.is_string() &&
        name.get<std::string>().ends_with(kClassifierSuffix)) {
      return true;
    }
  }
  return false;
}

nlohmann::json sequence_classifier_config(const nlohmann::json& config,
                                          std::optional<int> pad_token_id) {
  nlohmann::json out = config;
  out["architectures"] = {class_prefix(config.value("model_type", "")) +
                          std::string(kClassifierSuffix)};
  out["num_labels"] = 1;
  out["id2label"] = {{"0", "LABEL_0"}};
  out["label2id"] = {{"LABEL_0", 0}};
  if (pad_token_id && out.value("pad_token_id", nlohmann::json()).is_null()) {
    out["pad_token_id"] = *pad_token_id;
  }
  return out;
}

} // namespace mlxt::models

// Tokenizer: wires the pieces of tokenizer.json together (added tokens ->
// pre-tokenizer -> BPE -> special-token framing) and reads the model folder.
#include "mlxt/tokenizer/tokenizer.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include "mlxt/core/error.h"
#include "mlxt/core/json_file.h"
#include "mlxt/tokenizer/added_tokens.h"
#include "mlxt/tokenizer/bpe.h"
#include "mlxt/tokenizer/byte_level.h"
#include "mlxt/tokenizer/chat_format.h"
#include "mlxt/tokenizer/jinja/template.h"
#include "mlxt/tokenizer/json_fields.h"
#include "mlxt/tokenizer/post_processor.h"
#include "mlxt/tokenizer/pretokenizer.h"
#include "mlxt/tokenizer/tokenizer_config.h"
#include "mlxt/tokenizer/utf8.h"

namespace mlxt::tokenizer {

namespace fs = std::filesystem;
using detail::json;
using detail::where;

struct Tokenizer::Impl {
  Impl(detail::BpeModel model_, detail::PreTokenizer pre_tokenizer_)
      : model(std::move(model_)), pre_tokenizer(std::move(pre_tokenizer_)) {}

  detail::BpeModel model;
  detail::PreTokenizer pre_tokenizer;
  detail::AddedTokens added_tokens;
  std::vector<int> prefix_ids; // added by encode(add_special_tokens=true)
  std::vector<int> suffix_ids;
  std::optional<int> bos_id;
  std::optional<int> eos_id;
  std::optional<int> pad_id;
  detail::TokenizerConfig config;
  int vocab_size = 0;
  std::string config_file; // for chat-template errors
  // Templates are parsed on first use, so a tokenizer whose template this
  // version cannot parse still encodes.
  mutable std::mutex parsed_mutex;
  mutable std::map<std::string, std::shared_ptr<const jinja::Template>> parsed;

  std::optional<int> token_to_id(std::string_view token) const {
    if (const auto* added = added_tokens.find_by_content(token)) {
      return added->id;
    }
    return model.token_to_id(token);
  }
};

namespace {

// Normalizers change the text before matching; none is implemented yet, so
// only "no normalizer" (null or an empty Sequence) is accepted.
void check_normalizer(const json& tokenizer_json, const std::string& file) {
  const json* normalizer = detail::optional_field(tokenizer_json, "normalizer");
  if (normalizer == nullptr) {
    return;
  }
  const json* type = detail::optional_field(*normalizer, "type");
  const json* list = detail::optional_field(*normalizer, "normalizers");
  if (type != nullptr && *type == "Sequence" && list != nullptr &&
      list->is_array() && list->empty()) {
    return;
  }
  std::string name = type != nullptr && type->is_string()
                         ? type->get<std::string>()
                         : normalizer->dump();
  detail::fail_unsupported(
      file,
      "normalizer",
      "normalizer \"" + name +
          "\" is not supported by this version; only byte-level BPE without "
          "a normalizer is");
}

void check_decoder(const json& tokenizer_json, const std::string& file) {
  const json* decoder = detail::optional_field(tokenizer_json, "decoder");
  std::string type = "null";
  if (decoder != nullptr) {
    type = detail::as_string(
        detail::require_field(*decoder, "type", file, "decoder.type"),
        file,
        "decoder.type");
  }
  if (type != "ByteLevel") {
    detail::fail_unsupported(file,
                             "decoder.type",
                             "decoder \"" + type +
                                 "\" is not supported; only \"ByteLevel\" is");
  }
}

// Id of the special token the config names at `key` (e.g. "bos_token").
template <typename Lookup>
std::optional<int> resolve_special(const Lookup& token_to_id,
                                   const std::optional<std::string>& token,
                                   const std::string& config_file,
                                   const std::string& key) {
  if (!token) {
    return std::nullopt;
  }
  auto id = token_to_id(*token);
  if (!id) {
    fail(ErrorCode::invalid_model,
         "\"" + *token + "\" is neither in the vocabulary nor an added token",
         where(config_file, key));
  }
  return id;
}

} // namespace

Tokenizer::Tokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Tokenizer::~Tokenizer() = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;

Tokenizer Tokenizer::from_json(const json& tokenizer_json,
                               const json& tokenizer_config,
                               const std::string& source) {
  const std::string& file = source;
  if (!tokenizer_json.is_object()) {
    detail::fail_invalid(file,
                         "",
                         "expected a JSON object but received " +
                             detail::describe_type(tokenizer_json));
  }
  check_normalizer(tokenizer_json, file);
  check_decoder(tokenizer_json, file);
  auto model = detail::BpeModel::from_json(
      detail::require_field(tokenizer_json, "model", file, "model"), file);
  auto pre_tokenizer = detail::PreTokenizer::from_json(
      tokenizer_json.value("pre_tokenizer", json()), file);
  auto impl =
      std::make_unique<Impl>(std::move(model), std::move(pre_tokenizer));
  impl->added_tokens = detail::AddedTokens::from_json(
      tokenizer_json.value("added_tokens", json()), file);
  auto framing = detail::parse_post_processor(
      tokenizer_json.value("post_processor", json()), file);

  // Config errors name tokenizer_config.json next to the tokenizer.json.
  std::string config_file =
      (fs::path(file).parent_path() / "tokenizer_config.json").string();
  auto config = detail::parse_tokenizer_config(tokenizer_config, config_file);
  impl->config_file = config_file;
  auto lookup = [&](std::string_view token) {
    return impl->token_to_id(token);
  };
  impl->bos_id =
      resolve_special(lookup, config.bos_token, config_file, "bos_token");
  impl->eos_id =
      resolve_special(lookup, config.eos_token, config_file, "eos_token");
  impl->pad_id =
      resolve_special(lookup, config.pad_token, config_file, "pad_token");
  impl->config = config;

  int max_id = impl->model.max_id();
  for (const auto& token : impl->added_tokens.tokens()) {
    max_id = std::max(max_id, token.id);
  }
  impl->vocab_size = max_id + 1;

  // transformers rebuilds the post-processor from add_bos_token /
  // add_eos_token when the config sets them, so they win over the template.
  if (config.add_bos_token || config.add_eos_token) {
    auto framing_id = [&](bool wanted,
                          const std::optional<int>& id,
                          const char* key) -> std::vector<int> {
      if (!wanted) {
        return {};
      }
      if (!id) {
        fail(ErrorCode::invalid_model,
             "is true but the matching special token is not set",
             where(config_file, key));
      }
      return {*id};
    };
    impl->prefix_ids = framing_id(
        config.add_bos_token.value_or(false), impl->bos_id, "add_bos_token");
    impl->suffix_ids = framing_id(
        config.add_eos_token.value_or(false), impl->eos_id, "add_eos_token");
  } else {
    for (const auto* ids : {&framing.prefix, &framing.suffix}) {
      for (int id : *ids) {
        if (id >= impl->vocab_size) {
          detail::fail_invalid(file,
                               "post_processor",
                               "special id " + std::to_string(id) +
                                   " is outside the vocabulary");
        }
      }
    }
    impl->prefix_ids = framing.prefix;
    impl->suffix_ids = framing.suffix;
  }
  return Tokenizer(std::move(impl));
}

Tokenizer Tokenizer::load(const fs::path& model_dir) {
  const fs::path tokenizer_file = model_dir / "tokenizer.json";
  if (!fs::exists(tokenizer_file)) {
    fail(ErrorCode::not_found,
         "no tokenizer.json in the model folder; this version reads HF "
         "tokenizer.json files only",
         where(tokenizer_file.string()));
  }
  json tokenizer_json = read_json_file(tokenizer_file);
  const fs::path config_file = model_dir / "tokenizer_config.json";
  json config =
      fs::exists(config_file) ? read_json_file(config_file) : json::object();
  // Newer transformers save the template beside the config instead of in it.
  const fs::path template_file = model_dir / "chat_template.jinja";
  if (config.is_object() && !config.contains("chat_template") &&
      fs::exists(template_file)) {
    std::ifstream in(template_file, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    config["chat_template"] = text.str();
  }
  return from_json(tokenizer_json, config, tokenizer_file.string());
}

std::vector<int> Tokenizer::encode(std::string_view text,
                                   bool add_special_tokens) const {
  if (auto bad = detail::find_invalid_utf8(text)) {
    fail(ErrorCode::invalid_data,
         "encode: text is not valid UTF-8 (bad byte at offset " +
             std::to_string(*bad) + ")");
  }
  std::vector<int> ids;
  if (add_special_tokens) {
    ids = impl_->prefix_ids;
  }
  for (const auto& segment : impl_->added_tokens.split(text)) {
    if (segment.id) {
      ids.push_back(*segment.id);
      continue;
    }
    for (const std::string& word : impl_->pre_tokenizer.split(segment.text)) {
      impl_->model.encode_word(word, ids);
    }
  }
  if (add_special_tokens) {
    ids.insert(ids.end(), impl_->suffix_ids.begin(), impl_->suffix_ids.end());
  }
  return ids;
}

std::string Tokenizer::decode(const std::vector<int>& ids,
                              bool skip_special_tokens) const {
  std::string bytes;
  for (int id : ids) {
    if (const auto* added = impl_->added_tokens.find_by_id(id)) {
      if (!(skip_special_tokens && added->special)) {
        bytes += detail::token_to_bytes(added->content);
      }
      continue;
    }
    const std::string* token = impl_->model.id_to_token(id);
    if (token == nullptr) {
      fail(ErrorCode::invalid_data,
           "decode: id " + std::to_string(id) +
               " is not in the vocabulary (size " +
               std::to_string(impl_->vocab_size) + ")");
    }
    bytes += detail::token_to_bytes(*token);
  }
  // Token boundaries can split a UTF-8 character; HF replaces the broken
  // bytes with U+FFFD, and so do we.
  return detail::utf8_lossy(bytes);
}

int Tokenizer::vocab_size() const {
  return impl_->vocab_size;
}

std::optional<int> Tokenizer::bos_id() const {
  return impl_->bos_id;
}

std::optional<int> Tokenizer::eos_id() const {
  return impl_->eos_id;
}

std::optional<int> Tokenizer::pad_id() const {
  return impl_->pad_id;
}

std::optional<int> Tokenizer::token_to_id(const std::string& token) const {
  return impl_->token_to_id(token);
}

bool Tokenizer::has_chat_template() const {
  return !impl_->config.chat_templates.empty();
}

std::string
Tokenizer::apply_chat_template(const std::vector<ChatMessage>& messages,
                               bool add_generation_prompt,
                               const nlohmann::ordered_json& variables,
                               const nlohmann::ordered_json& tools) const {
  const auto& [name, text] = detail::select_chat_template(
      impl_->config.chat_templates, !tools.is_null(), impl_->config_file);
  std::shared_ptr<const jinja::Template> parsed;
  {
    std::lock_guard<std::mutex> lock(impl_->parsed_mutex);
    auto& slot = impl_->parsed[name];
    if (!slot) {
      std::string key = impl_->config.chat_templates.size() == 1
                            ? "chat_template"
                            : "chat_template \"" + name + "\"";
      slot = std::make_shared<const jinja::Template>(
          jinja::Template::parse(text, {impl_->config_file, key}));
    }
    parsed = slot;
  }
  return parsed->render(detail::chat_template_variables(
      messages, add_generation_prompt, variables, tools, impl_->config));
}

} // namespace mlxt::tokenizer

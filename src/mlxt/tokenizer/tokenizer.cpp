// Tokenizer: wires the pieces of tokenizer.json together (added tokens ->
// normalizer -> pre-tokenizer -> model -> special-token framing; decoder for
// the way back) and reads the model folder: tokenizer.json, else a
// tokenizer.model (tiktoken ranks or SentencePiece).
#include "mlxt/tokenizer/tokenizer.h"

#include <algorithm>
#include <atomic>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "mlxt/core/error.h"
#include "mlxt/core/json_file.h"
#include "mlxt/tokenizer/added_tokens.h"
#include "mlxt/tokenizer/bpe.h"
#include "mlxt/tokenizer/chat_format.h"
#include "mlxt/tokenizer/decoder.h"
#include "mlxt/tokenizer/jinja/template.h"
#include "mlxt/tokenizer/json_fields.h"
#include "mlxt/tokenizer/normalizer.h"
#include "mlxt/tokenizer/post_processor.h"
#include "mlxt/tokenizer/pretokenizer.h"
#include "mlxt/tokenizer/sentencepiece_model.h"
#include "mlxt/tokenizer/tiktoken.h"
#include "mlxt/tokenizer/tokenizer_config.h"
#include "mlxt/tokenizer/utf8.h"

namespace mlxt::tokenizer {

namespace fs = std::filesystem;
using detail::json;
using detail::where;

struct Tokenizer::Impl {
  // tokenizer.json pipeline (bpe set), or a SentencePiece model.
  std::unique_ptr<detail::Normalizer> normalizer;
  std::unique_ptr<detail::PreTokenizer> pre_tokenizer;
  std::unique_ptr<detail::BpeModel> bpe;
  std::unique_ptr<detail::Decoder> decoder;
  std::unique_ptr<detail::SentencePieceModel> sentencepiece;
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
  // Behind a pointer so that Impl stays movable while being built.
  std::unique_ptr<std::mutex> parsed_mutex = std::make_unique<std::mutex>();
  mutable std::map<std::string, std::shared_ptr<const jinja::Template>> parsed;

  std::optional<int> token_to_id(std::string_view token) const {
    if (const auto* added = added_tokens.find_by_content(token)) {
      return added->id;
    }
    if (sentencepiece) {
      return sentencepiece->piece_to_id(token);
    }
    return bpe->token_to_id(token);
  }

  std::vector<int> encode_text(std::string_view text) const {
    if (sentencepiece) {
      return sentencepiece->encode(text);
    }
    std::vector<int> ids;
    for (auto& segment :
         added_tokens.extract_and_normalize(text, normalizer.get())) {
      if (segment.id) {
        ids.push_back(*segment.id);
        continue;
      }
      std::vector<detail::Piece> pieces;
      pieces.push_back({std::move(segment.text), segment.at_start});
      if (pre_tokenizer) {
        pre_tokenizer->apply(pieces);
      }
      for (const auto& piece : pieces) {
        bpe->encode_word(piece.text, ids);
      }
    }
    return ids;
  }
};

namespace {

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

// Reads the special-token names, BOS/EOS framing and chat template of
// `tokenizer_config` into `impl`; `framing` is what the tokenizer file
// itself asks for.
void apply_config(Tokenizer::Impl& impl,
                  const json& tokenizer_config,
                  const std::string& config_file,
                  const detail::SpecialTokenFraming& framing,
                  const std::string& file) {
  auto config = detail::parse_tokenizer_config(tokenizer_config, config_file);
  impl.config_file = config_file;
  auto lookup = [&](std::string_view token) { return impl.token_to_id(token); };
  impl.bos_id =
      resolve_special(lookup, config.bos_token, config_file, "bos_token");
  impl.eos_id =
      resolve_special(lookup, config.eos_token, config_file, "eos_token");
  impl.pad_id =
      resolve_special(lookup, config.pad_token, config_file, "pad_token");
  impl.config = config;

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
    impl.prefix_ids = framing_id(
        config.add_bos_token.value_or(false), impl.bos_id, "add_bos_token");
    impl.suffix_ids = framing_id(
        config.add_eos_token.value_or(false), impl.eos_id, "add_eos_token");
    return;
  }
  for (const auto* ids : {&framing.prefix, &framing.suffix}) {
    for (int id : *ids) {
      if (id >= impl.vocab_size) {
        detail::fail_invalid(file,
                             "post_processor",
                             "special id " + std::to_string(id) +
                                 " is outside the vocabulary");
      }
    }
  }
  impl.prefix_ids = framing.prefix;
  impl.suffix_ids = framing.suffix;
}

json read_config(const fs::path& model_dir) {
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
  return config;
}

std::string read_text_file(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    fail(ErrorCode::io, "cannot open the file", where(file.string()));
  }
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// A folder with only a SentencePiece tokenizer.model: encode and decode go
// through libsentencepiece; BOS is added unless the config says otherwise
// (LlamaTokenizer's default).
Tokenizer::Impl load_sentencepiece(const fs::path& model_file,
                                   const json& config_json,
                                   const std::string& config_file) {
  Tokenizer::Impl impl;
  impl.sentencepiece = std::make_unique<detail::SentencePieceModel>(model_file);
  impl.vocab_size = impl.sentencepiece->vocab_size();
  impl.bos_id = impl.sentencepiece->bos_id();
  impl.eos_id = impl.sentencepiece->eos_id();
  impl.pad_id = impl.sentencepiece->pad_id();
  detail::SpecialTokenFraming framing;
  if (impl.bos_id) {
    framing.prefix.push_back(*impl.bos_id);
  }
  apply_config(impl, config_json, config_file, framing, model_file.string());
  impl.bos_id = impl.bos_id ? impl.bos_id : impl.sentencepiece->bos_id();
  impl.eos_id = impl.eos_id ? impl.eos_id : impl.sentencepiece->eos_id();
  impl.pad_id = impl.pad_id ? impl.pad_id : impl.sentencepiece->pad_id();
  return impl;
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
  auto impl = std::make_unique<Impl>();
  auto section = [&](const char* key) {
    return tokenizer_json.value(key, json());
  };
  impl->normalizer =
      detail::make_normalizer(section("normalizer"), file, "normalizer");
  impl->pre_tokenizer = detail::make_pre_tokenizer(
      section("pre_tokenizer"), file, "pre_tokenizer");
  impl->decoder = detail::make_decoder(section("decoder"), file, "decoder");
  impl->bpe = std::make_unique<detail::BpeModel>(detail::BpeModel::from_json(
      detail::require_field(tokenizer_json, "model", file, "model"), file));
  const detail::BpeModel& bpe = *impl->bpe;
  impl->added_tokens = detail::AddedTokens::from_json(
      section("added_tokens"),
      file,
      impl->normalizer.get(),
      {[&](std::string_view token) { return bpe.token_to_id(token); },
       bpe.size()});
  auto framing = detail::parse_post_processor(section("post_processor"), file);

  int max_id = impl->bpe->max_id();
  for (const auto& token : impl->added_tokens.tokens()) {
    max_id = std::max(max_id, token.id);
  }
  impl->vocab_size = max_id + 1;
  // Config errors name tokenizer_config.json next to the tokenizer.json.
  std::string config_file =
      (fs::path(file).parent_path() / "tokenizer_config.json").string();
  apply_config(*impl, tokenizer_config, config_file, framing, file);
  return Tokenizer(std::move(impl));
}

Tokenizer Tokenizer::load(const fs::path& model_dir) {
  const fs::path tokenizer_file = model_dir / "tokenizer.json";
  const fs::path model_file = model_dir / "tokenizer.model";
  if (fs::exists(tokenizer_file)) {
    return from_json(read_json_file(tokenizer_file),
                     read_config(model_dir),
                     tokenizer_file.string());
  }
  if (!fs::exists(model_file)) {
    fail(ErrorCode::not_found,
         "no tokenizer.json or tokenizer.model in the model folder",
         where(tokenizer_file.string()));
  }
  json config = read_config(model_dir);
  std::string config_file = (model_dir / "tokenizer_config.json").string();
  std::string contents = read_text_file(model_file);
  if (detail::looks_like_tiktoken(contents)) {
    // The rank file's tokenizer.json equivalent takes the usual path; its
    // errors still name tokenizer.model.
    return from_json(detail::tiktoken_to_tokenizer_json(
                         contents, config, model_file.string()),
                     config,
                     (model_dir / "tokenizer.json").string());
  }
  return Tokenizer(std::make_unique<Impl>(
      load_sentencepiece(model_file, config, config_file)));
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
  std::vector<int> body = impl_->encode_text(text);
  ids.insert(ids.end(), body.begin(), body.end());
  if (add_special_tokens) {
    ids.insert(ids.end(), impl_->suffix_ids.begin(), impl_->suffix_ids.end());
  }
  return ids;
}

std::vector<std::vector<int>>
Tokenizer::encode_batch(const std::vector<std::string>& texts,
                        bool add_special_tokens,
                        int threads) const {
  std::vector<std::vector<int>> out(texts.size());
  if (threads <= 0) {
    threads =
        static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  }
  threads = std::min<int>(threads, static_cast<int>(texts.size()));
  // Workers take the next unclaimed text; each result goes to its own slot,
  // so the order is the input order whatever the scheduling.
  std::atomic<std::size_t> next{0};
  std::vector<std::exception_ptr> errors(texts.size());
  auto work = [&] {
    for (std::size_t i = next++; i < texts.size(); i = next++) {
      try {
        out[i] = encode(texts[i], add_special_tokens);
      } catch (...) {
        errors[i] = std::current_exception();
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) {
    pool.emplace_back(work);
  }
  work();
  for (auto& thread : pool) {
    thread.join();
  }
  for (const auto& error : errors) {
    if (error) {
      std::rethrow_exception(error);
    }
  }
  return out;
}

std::string Tokenizer::decode(const std::vector<int>& ids,
                              bool skip_special_tokens) const {
  if (impl_->sentencepiece) {
    return impl_->sentencepiece->decode(ids, skip_special_tokens);
  }
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (int id : ids) {
    if (const auto* added = impl_->added_tokens.find_by_id(id)) {
      if (!(skip_special_tokens &&
            impl_->added_tokens.skipped_as_special(*added))) {
        tokens.push_back(added->decoded);
      }
      continue;
    }
    const std::string* token = impl_->bpe->id_to_token(id);
    if (token == nullptr) {
      fail(ErrorCode::invalid_data,
           "decode: id " + std::to_string(id) +
               " is not in the vocabulary (size " +
               std::to_string(impl_->vocab_size) + ")");
    }
    tokens.push_back(*token);
  }
  if (!impl_->decoder) {
    // HF joins the tokens with spaces when there is no decoder.
    std::string text;
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      text += (i > 0 ? " " : "") + tokens[i];
    }
    return text;
  }
  impl_->decoder->decode_chain(tokens);
  std::string text;
  for (const auto& token : tokens) {
    text += token;
  }
  return text;
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
    std::lock_guard<std::mutex> lock(*impl_->parsed_mutex);
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

std::optional<std::string> vocabulary_difference(const Tokenizer& tokenizer,
                                                 const Tokenizer& other) {
  if (other.vocab_size() != tokenizer.vocab_size()) {
    return std::to_string(other.vocab_size()) + " tokens, not " +
           std::to_string(tokenizer.vocab_size());
  }
  for (int id = 0; id < tokenizer.vocab_size(); ++id) {
    const std::string a = tokenizer.decode({id}, false);
    const std::string b = other.decode({id}, false);
    if (a != b) {
      return "token " + std::to_string(id) + " is '" + b + "', not '" + a + "'";
    }
  }
  return std::nullopt;
}

} // namespace mlxt::tokenizer

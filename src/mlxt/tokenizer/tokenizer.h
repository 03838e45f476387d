// Tokenizer: text <-> token ids for a model folder, plus chat formatting.
//
// Reads Hugging Face `tokenizer.json` (+ `tokenizer_config.json`) with BPE
// models of both families, byte-level (GPT-2 / Llama 3 / Qwen2) and
// SentencePiece-style (Llama 2 / Mistral / Phi-3: Metaspace, byte_fallback),
// with the normalizers, pre-tokenizers, post-processors and decoders those
// use, giving the ids HF `tokenizers` gives. Without a tokenizer.json it
// reads `tokenizer.model`: a tiktoken rank file (Llama 3) or a SentencePiece
// model. Anything else fails with Error(unsupported) naming the file and the
// JSON key.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace mlxt::tokenizer {

struct ChatMessage {
  std::string role; // "system" | "user" | "assistant" | "tool" | ...
  std::string content;
  //! More message members for the template, e.g. tool_calls, name,
  //! tool_call_id; they may override role and content (a null content).
  nlohmann::ordered_json extra = nlohmann::ordered_json::object();
};

class Tokenizer {
public:
  //! Loads tokenizer.json and tokenizer_config.json from `model_dir`.
  static Tokenizer load(const std::filesystem::path& model_dir);
  //! Builds one from parsed tokenizer.json / tokenizer_config.json contents;
  //! `source` names the file in error messages.
  static Tokenizer from_json(const nlohmann::json& tokenizer_json,
                             const nlohmann::json& tokenizer_config,
                             const std::string& source);

  //! Ids of `text`; special-token text inside it maps to the special ids.
  //! With add_special_tokens, prepends BOS when the config says add_bos_token.
  std::vector<int> encode(std::string_view text,
                          bool add_special_tokens = true) const;
  //! encode() of each text, spread over `threads` threads (0: one per
  //! core); results are in input order.
  std::vector<std::vector<int>>
  encode_batch(const std::vector<std::string>& texts,
               bool add_special_tokens = true,
               int threads = 0) const;
  //! Text of `ids`; special tokens are left out when skip_special_tokens.
  std::string decode(const std::vector<int>& ids,
                     bool skip_special_tokens = true) const;

  int vocab_size() const; // largest id + 1, added tokens included
  std::optional<int> bos_id() const;
  std::optional<int> eos_id() const;
  std::optional<int> pad_id() const;
  //! Id of a token string (regular or added), if it exists.
  std::optional<int> token_to_id(const std::string& token) const;

  //! True when the config (or chat_template.jinja) has a chat template.
  bool has_chat_template() const;
  //! Renders `messages` with the model's own Jinja chat template, as HF's
  //! apply_chat_template(tokenize=False) does: with add_generation_prompt,
  //! the template appends the assistant turn header. `variables` (a JSON
  //! object) adds template variables; `tools` (a list of JSON tool schemas,
  //! null for none) is passed as `tools` and picks a "tool_use" template.
  //! Throws mlxt::Error naming the template line when it does not parse,
  //! uses Jinja this version lacks, or fails (e.g. raise_exception).
  std::string
  apply_chat_template(const std::vector<ChatMessage>& messages,
                      bool add_generation_prompt,
                      const nlohmann::ordered_json& variables =
                          nlohmann::ordered_json::object(),
                      const nlohmann::ordered_json& tools = nullptr) const;

  ~Tokenizer();
  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;

  struct Impl; // defined in tokenizer.cpp

private:
  explicit Tokenizer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

//! How `other`'s vocabulary first differs from `tokenizer`'s ("12 tokens,
//! not 13", "token 5 is 'a', not 'b'"), or nullopt when both have the same
//! size and every id decodes to the same text: two models that must read
//! the same token ids (a policy and its reference or reward model).
std::optional<std::string> vocabulary_difference(const Tokenizer& tokenizer,
                                                 const Tokenizer& other);

struct BpeTrainOptions {
  int vocab_size = 512; // total, including the 256 byte tokens and specials
  std::vector<std::string> special_tokens; // get the ids after the merges
  int min_frequency = 2;       // pairs seen fewer times are never merged
  int model_max_length = 2048; // written to tokenizer_config.json
};

//! Trains a byte-level BPE on `texts` and returns {tokenizer.json,
//! tokenizer_config.json} contents that both this class and HF `tokenizers`
//! load. Deterministic: the same input gives the same files. The config
//! gets, when those special tokens are present, bos and pad
//! "<|endoftext|>", eos "<|im_end|>" (else "<|endoftext|>"), and the ChatML
//! chat template. Throws Error(invalid_config) for a vocab_size below
//! 256 + specials or repeated/empty special tokens.
std::pair<nlohmann::json, nlohmann::json>
train_byte_level_bpe(const std::vector<std::string>& texts,
                     const BpeTrainOptions& options);

} // namespace mlxt::tokenizer

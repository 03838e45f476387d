#include "mlxt/tokenizer/tiktoken.h"

#include <algorithm>
#include <unordered_map>
#include <vector>

#include "mlxt/tokenizer/byte_level.h"
#include "mlxt/tokenizer/json_fields.h"

namespace mlxt::tokenizer::detail {

namespace {

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == '+')
    return 62;
  if (c == '/')
    return 63;
  return -1;
}

// Standard base64 with '=' padding; nullopt for anything else.
std::optional<std::string> decode_base64(std::string_view text) {
  if (text.empty() || text.size() % 4 != 0) {
    return std::nullopt;
  }
  std::string out;
  for (std::size_t i = 0; i < text.size(); i += 4) {
    int values[4];
    int padding = 0;
    for (int k = 0; k < 4; ++k) {
      char c = text[i + k];
      if (c == '=' && i + 4 == text.size() && k >= 2) {
        values[k] = 0;
        ++padding;
      } else if (padding > 0 || (values[k] = base64_value(c)) < 0) {
        return std::nullopt;
      }
    }
    unsigned bits =
        (values[0] << 18) | (values[1] << 12) | (values[2] << 6) | values[3];
    out += static_cast<char>(bits >> 16);
    if (padding < 2)
      out += static_cast<char>((bits >> 8) & 0xFF);
    if (padding < 1)
      out += static_cast<char>(bits & 0xFF);
  }
  return out;
}

// Meta's Llama 3 special tokens, numbered from the first id after the ranks.
std::vector<std::string> llama3_special_tokens() {
  std::vector<std::string> names = {"<|begin_of_text|>",
                                    "<|end_of_text|>",
                                    "<|reserved_special_token_0|>",
                                    "<|reserved_special_token_1|>",
                                    "<|reserved_special_token_2|>",
                                    "<|reserved_special_token_3|>",
                                    "<|start_header_id|>",
                                    "<|end_header_id|>",
                                    "<|reserved_special_token_4|>",
                                    "<|eot_id|>"};
  for (int i = 5; i < 256 - 5; ++i) {
    names.push_back("<|reserved_special_token_" + std::to_string(i) + "|>");
  }
  return names;
}

json added_token(int id, const std::string& content) {
  return {{"id", id},
          {"content", content},
          {"single_word", false},
          {"lstrip", false},
          {"rstrip", false},
          {"normalized", false},
          {"special", true}};
}

} // namespace

bool looks_like_tiktoken(std::string_view contents) {
  std::string_view line = contents.substr(0, contents.find('\n'));
  auto space = line.find(' ');
  if (space == std::string_view::npos || space == 0 ||
      space + 1 == line.size()) {
    return false;
  }
  return decode_base64(line.substr(0, space)).has_value() &&
         std::all_of(line.begin() + space + 1, line.end(), [](char c) {
           return c >= '0' && c <= '9';
         });
}

json tiktoken_to_tokenizer_json(std::string_view contents,
                                const json& config,
                                const std::string& file) {
  // rank -> token bytes, and back.
  std::vector<std::string> tokens;
  std::unordered_map<std::string, int> rank_of;
  long line_number = 0;
  for (std::size_t pos = 0; pos < contents.size();) {
    std::size_t end = contents.find('\n', pos);
    if (end == std::string_view::npos)
      end = contents.size();
    std::string_view line = contents.substr(pos, end - pos);
    pos = end + 1;
    ++line_number;
    if (line.empty())
      continue;
    auto space = line.find(' ');
    std::optional<std::string> bytes;
    int rank = -1;
    if (space != std::string_view::npos) {
      bytes = decode_base64(line.substr(0, space));
      std::string digits(line.substr(space + 1));
      if (!digits.empty() && digits.size() < 10 &&
          std::all_of(digits.begin(), digits.end(), ::isdigit)) {
        rank = std::stoi(digits);
      }
    }
    if (!bytes || rank < 0) {
      fail(ErrorCode::invalid_model,
           "expected \"<base64 token> <rank>\" but received \"" +
               std::string(line.substr(0, 80)) + "\"",
           where(file, "", line_number));
    }
    if (rank != static_cast<int>(tokens.size()) ||
        !rank_of.emplace(*bytes, rank).second) {
      fail(ErrorCode::invalid_model,
           "ranks must be 0, 1, 2, ... with distinct tokens; rank " +
               std::to_string(rank) + " is out of order or repeated",
           where(file, "", line_number));
    }
    tokens.push_back(std::move(*bytes));
  }

  // Every split of a token into two tokens is a merge at the token's rank;
  // ties go by the ranks of the two halves (transformers' converter).
  struct Merge {
    int rank, left, right;
  };
  std::vector<Merge> merges;
  json vocab = json::object();
  for (int rank = 0; rank < static_cast<int>(tokens.size()); ++rank) {
    const std::string& token = tokens[rank];
    vocab[bytes_to_symbols(token)] = rank;
    for (std::size_t cut = 1; cut < token.size(); ++cut) {
      auto left = rank_of.find(token.substr(0, cut));
      auto right = rank_of.find(token.substr(cut));
      if (left != rank_of.end() && right != rank_of.end()) {
        merges.push_back({rank, left->second, right->second});
      }
    }
  }
  std::sort(merges.begin(), merges.end(), [](const Merge& a, const Merge& b) {
    return std::tie(a.rank, a.left, a.right) <
           std::tie(b.rank, b.left, b.right);
  });
  json merge_list = json::array();
  for (const Merge& m : merges) {
    merge_list.push_back(
        {bytes_to_symbols(tokens[m.left]), bytes_to_symbols(tokens[m.right])});
  }

  json added = json::array();
  const json* decoder = config.is_object()
                            ? optional_field(config, "added_tokens_decoder")
                            : nullptr;
  if (decoder != nullptr && decoder->is_object()) {
    for (const auto& [id, entry] : decoder->items()) {
      json token = entry;
      token["id"] = std::stoi(id);
      added.push_back(token);
    }
  } else {
    auto names = llama3_special_tokens();
    for (std::size_t i = 0; i < names.size(); ++i) {
      added.push_back(
          added_token(static_cast<int>(tokens.size() + i), names[i]));
    }
  }

  std::string bos = "<|begin_of_text|>";
  if (config.is_object() && config.contains("bos_token") &&
      config["bos_token"].is_string()) {
    bos = config["bos_token"].get<std::string>();
  }
  std::optional<int> bos_id;
  for (const json& token : added) {
    if (token.value("content", "") == bos)
      bos_id = token["id"].get<int>();
  }
  json post_processor = nullptr;
  if (bos_id) {
    post_processor = {
        {"type", "TemplateProcessing"},
        {"single",
         {{{"SpecialToken", {{"id", bos}, {"type_id", 0}}}},
          {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
        {"pair", json::array()},
        {"special_tokens",
         {{bos, {{"id", bos}, {"ids", {*bos_id}}, {"tokens", {bos}}}}}}};
  }
  json byte_level = {{"type", "ByteLevel"},
                     {"add_prefix_space", false},
                     {"trim_offsets", true},
                     {"use_regex", false}};
  return {{"version", "1.0"},
          {"added_tokens", added},
          {"normalizer", nullptr},
          {"pre_tokenizer",
           {{"type", "Sequence"},
            {"pretokenizers",
             {{{"type", "Split"},
               {"pattern", {{"Regex", std::string(kLlama3SplitPattern)}}},
               {"behavior", "Isolated"},
               {"invert", false}},
              byte_level}}}},
          {"post_processor", post_processor},
          {"decoder", byte_level},
          {"model",
           {{"type", "BPE"},
            {"dropout", nullptr},
            {"unk_token", nullptr},
            {"fuse_unk", false},
            {"byte_fallback", false},
            {"ignore_merges", true},
            {"vocab", vocab},
            {"merges", merge_list}}}};
}

} // namespace mlxt::tokenizer::detail

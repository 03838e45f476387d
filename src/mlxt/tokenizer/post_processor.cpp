#include "mlxt/tokenizer/post_processor.h"

#include "mlxt/tokenizer/json_fields.h"

namespace mlxt::tokenizer::detail {

namespace {

// Ids of one {"SpecialToken": {"id": "<s>"}} item, looked up in the
// processor's "special_tokens" table.
std::vector<int> special_item_ids(const json& processor,
                                  const json& item,
                                  const std::string& file,
                                  const std::string& key) {
  const std::string& name =
      as_string(require_field(item, "id", file, key + ".SpecialToken.id"),
                file,
                key + ".SpecialToken.id");
  const json& table = require_field(
      processor, "special_tokens", file, "post_processor.special_tokens");
  const std::string entry_key =
      "post_processor.special_tokens[\"" + name + "\"]";
  const json& entry = require_field(table, name, file, entry_key);
  const json& ids = require_field(entry, "ids", file, entry_key + ".ids");
  if (!ids.is_array()) {
    fail_invalid(file, entry_key + ".ids", "expected an array of ids");
  }
  std::vector<int> out;
  for (const json& id : ids) {
    if (!id.is_number_integer() || id.get<long long>() < 0) {
      fail_invalid(
          file, entry_key + ".ids", "expected non-negative integer ids");
    }
    out.push_back(id.get<int>());
  }
  return out;
}

void add_template_processing(const json& processor,
                             const std::string& file,
                             const std::string& key,
                             SpecialTokenFraming& framing) {
  const json& single =
      require_field(processor, "single", file, key + ".single");
  if (!single.is_array()) {
    fail_invalid(file, key + ".single", "expected an array of template items");
  }
  bool after_sequence = false;
  for (std::size_t i = 0; i < single.size(); ++i) {
    const std::string item_key = key + ".single[" + std::to_string(i) + "]";
    if (const json* special = optional_field(single[i], "SpecialToken")) {
      auto ids = special_item_ids(processor, *special, file, item_key);
      auto& target = after_sequence ? framing.suffix : framing.prefix;
      target.insert(target.end(), ids.begin(), ids.end());
    } else if (optional_field(single[i], "Sequence") != nullptr) {
      if (after_sequence) {
        fail_invalid(
            file, item_key, "the single template names the sequence twice");
      }
      after_sequence = true;
    } else {
      fail_invalid(file, item_key, "expected a SpecialToken or Sequence item");
    }
  }
}

void add_processor(const json& processor,
                   const std::string& file,
                   const std::string& key,
                   SpecialTokenFraming& framing) {
  const std::string& type =
      as_string(require_field(processor, "type", file, key + ".type"),
                file,
                key + ".type");
  if (type == "ByteLevel") {
    return; // only adjusts offsets, which this tokenizer does not report
  }
  if (type == "TemplateProcessing") {
    add_template_processing(processor, file, key, framing);
    return;
  }
  if (type == "BertProcessing" || type == "RobertaProcessing") {
    // Both frame a single sequence as cls A sep; the JSON names each as
    // ["token", id].
    auto framing_id = [&](const char* name) {
      const std::string item_key = key + "." + name;
      const json& item = require_field(processor, name, file, item_key);
      if (!item.is_array() || item.size() != 2 || !item[0].is_string() ||
          !item[1].is_number_integer() || item[1].get<long long>() < 0) {
        fail_invalid(file, item_key, "expected [\"token\", id]");
      }
      return item[1].get<int>();
    };
    framing.prefix.push_back(framing_id("cls"));
    framing.suffix.push_back(framing_id("sep"));
    return;
  }
  if (type == "Sequence") {
    const json& list =
        require_field(processor, "processors", file, key + ".processors");
    if (!list.is_array()) {
      fail_invalid(file, key + ".processors", "expected an array");
    }
    for (std::size_t i = 0; i < list.size(); ++i) {
      add_processor(list[i],
                    file,
                    key + ".processors[" + std::to_string(i) + "]",
                    framing);
    }
    return;
  }
  fail_unsupported(file,
                   key + ".type",
                   "post-processor \"" + type +
                       "\" is not supported; supported: ByteLevel, "
                       "TemplateProcessing, BertProcessing, "
                       "RobertaProcessing, Sequence");
}

} // namespace

SpecialTokenFraming parse_post_processor(const json& spec,
                                         const std::string& file) {
  SpecialTokenFraming framing;
  if (!spec.is_null()) {
    add_processor(spec, file, "post_processor", framing);
  }
  return framing;
}

} // namespace mlxt::tokenizer::detail

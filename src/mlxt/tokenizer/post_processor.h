// The special ids HF's "post_processor" puts around an encoded sequence
// (TemplateProcessing's "single" template, e.g. Llama 3's BOS).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mlxt::tokenizer::detail {

struct SpecialTokenFraming {
  std::vector<int> prefix; // ids before the text's ids
  std::vector<int> suffix; // ids after them
};

//! Reads tokenizer.json's "post_processor": null and ByteLevel add nothing;
//! TemplateProcessing adds the special tokens of its "single" template,
//! Bert/RobertaProcessing their cls and sep; a Sequence combines those.
//! Anything else fails with Error(unsupported).
SpecialTokenFraming parse_post_processor(const nlohmann::json& spec,
                                         const std::string& file);

} // namespace mlxt::tokenizer::detail

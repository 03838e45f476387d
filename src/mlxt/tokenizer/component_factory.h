// The one JSON factory behind normalizers, pre-tokenizers and decoders. HF
// `tokenizers` describes each as {"type": T, ...}, and {"type": "Sequence",
// "<list>": [...]} as a list of them run in order. A kind gives its table of
// types and its Sequence class; reading "type", dispatching, parsing
// Sequences and naming what is supported are done here, once.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "mlxt/tokenizer/json_fields.h"

namespace mlxt::tokenizer::detail {

//! Makes one component from its JSON `spec`; `key` is its JSON path.
template <class Component>
using ComponentMaker = std::function<std::unique_ptr<Component>(
    const json& spec, const std::string& file, const std::string& key)>;

//! One kind of component, as tokenizer.json names it.
template <class Component>
struct ComponentKind {
  std::string noun;      // "decoder", in messages
  std::string list_name; // the key of a Sequence's list: "decoders"
  //! Every type but "Sequence", in the order messages list them.
  std::vector<std::pair<std::string, ComponentMaker<Component>>> types;
};

//! The component `spec` describes, or nullptr for null. A "Sequence" is a
//! `SequenceOf` built from the components in `spec[kind.list_name]`. Fails
//! with Error(invalid_model) for a malformed spec or list and
//! Error(unsupported) for an unknown type, naming `file` and the JSON key.
template <class SequenceOf, class Component>
std::unique_ptr<Component> make_component(const ComponentKind<Component>& kind,
                                          const json& spec,
                                          const std::string& file,
                                          const std::string& key) {
  if (spec.is_null()) {
    return nullptr;
  }
  const std::string type_key = key + ".type";
  const std::string& type =
      as_string(require_field(spec, "type", file, type_key), file, type_key);
  if (type == "Sequence") {
    const std::string list_key = key + "." + kind.list_name;
    const json& list = require_field(spec, kind.list_name, file, list_key);
    if (!list.is_array()) {
      fail_invalid(file,
                   list_key,
                   "expected an array but received " + describe_type(list));
    }
    std::vector<std::unique_ptr<Component>> steps;
    for (std::size_t i = 0; i < list.size(); ++i) {
      const std::string item_key = list_key + "[" + std::to_string(i) + "]";
      if (list[i].is_null()) {
        fail_invalid(file, item_key, "expected a " + kind.noun + " object");
      }
      steps.push_back(
          make_component<SequenceOf>(kind, list[i], file, item_key));
    }
    return std::make_unique<SequenceOf>(std::move(steps));
  }
  std::string supported;
  for (const auto& [name, make] : kind.types) {
    if (name == type) {
      return make(spec, file, key);
    }
    supported += name + ", ";
  }
  fail_unsupported(file,
                   type_key,
                   kind.noun + " \"" + type +
                       "\" is not supported; supported: " + supported +
                       "Sequence");
}

} // namespace mlxt::tokenizer::detail

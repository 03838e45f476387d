// The registry of TrainConfig keys: every key is declared here once (dotted
// name, type, rule, help, and how to read and write its field). Parsing,
// validation, overrides, TrainConfig::to_json and describe_train_options all
// walk this table; no other file lists key names.
//
// Internal to the config module (namespace detail).
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "mlxt/config/config.h"

namespace mlxt::config::detail {

enum class KeyType {
  integer,
  number,
  boolean,
  string,
  string_list,
  number_list,
  object,
};

//! "int", "float", "bool", "string", "string list", "float list", "object".
const char* key_type_name(KeyType type);

//! In an alias's target, stands for the chosen optimizer.
inline constexpr std::string_view chosen_optimizer = "<optimizer>";

enum class KeyRole {
  field,   // reads and writes one TrainConfig field
  section, // an object whose members are keys of their own
  alias,   // another spelling of a field (mlx-lm's names)
  ignored, // accepted and dropped (mlx-lm's `config`)
};

struct KeySpec {
  std::string name; // dotted, e.g. "lora_parameters.rank"
  KeyType type = KeyType::string;
  KeyRole role = KeyRole::field;
  std::string help;

  // Rules, checked on each value (on each element of a list).
  std::vector<std::string> allowed;           // strings: the accepted values
  std::vector<std::string> not_yet_supported; // recognised, rejected as such
  std::optional<double> min;
  bool min_inclusive = true;
  std::optional<double> max;
  bool max_inclusive = true;
  std::optional<long> special_value; // an integer allowed outside the range
  std::string special_meaning;       // what special_value means ("all")
  std::size_t list_size = 0;         // exact list length; 0 = any
  bool non_empty = false;            // strings: "" is refused
  bool required = false;             // must be given for training
  // Extra rule: returns a complaint, or nothing when the value is fine.
  std::function<std::optional<std::string>(const nlohmann::json&)> extra;
  std::string extra_rule; // the extra rule in words, for help texts

  // Keys that a command-line override of this one removes from the file:
  // another way of giving the same setting (alpha and scale).
  std::vector<std::string> replaces;

  // Aliases: the keys they set, where "<optimizer>" stands for the chosen
  // optimizer; a list alias sets one key per element (betas: beta1, beta2).
  // They apply only when the optimizer is one of `for_optimizers` (empty:
  // always).
  std::vector<std::string> alias_of;
  std::vector<std::string> for_optimizers;

  // Optimizer settings: the catalogue's default, which TrainConfig{} does
  // not hold (it has no optimizer blocks); shown by the help and filled in
  // for the chosen optimizer when a config is resolved.
  nlohmann::json catalogue_default;

  // Field access. get returns null for an unset optional; set receives a
  // value that passed the rules (or null for an optional section).
  std::function<nlohmann::json(const TrainConfig&)> get;
  std::function<void(TrainConfig&, const nlohmann::json&)> set;

  KeySpec& at_least(double v);
  KeySpec& above(double v);
  KeySpec& at_most(double v);
  KeySpec& below(double v);
  KeySpec& or_special(long value, std::string meaning);
  KeySpec& one_of(std::vector<std::string> values);
  KeySpec& not_yet(std::vector<std::string> values);
  KeySpec& of_size(std::size_t n);
  KeySpec& not_empty();
  KeySpec& mandatory();
  KeySpec& also_replaces(std::string key);

  //! The rule in words, e.g. ">= 1 (or -1: all)", "one of: lora, full";
  //! empty when there is none.
  std::string rule_text() const;
};

//! One learning-rate schedule form: its name and its arguments in order
//! (mlx.optimizers' signatures); the first `required` must be given.
struct ScheduleForm {
  struct Argument {
    std::string name;
    bool is_step_count = false; // must be a whole number >= 1
  };
  std::string name;
  std::vector<Argument> arguments;
  std::size_t required = 0;
};

//! The schedules lr_schedule.name accepts.
const std::vector<ScheduleForm>& schedule_forms();

//! Every key, sections before their members, in the order of to_json and the
//! help text.
const std::vector<KeySpec>& config_keys();

//! The key named `name` (dotted), or nullptr.
const KeySpec* find_key(std::string_view name);

//! The keys alias `key` sets when the optimizer is `optimizer` (none when it
//! does not apply to that optimizer).
std::vector<std::string> alias_targets(const KeySpec& key,
                                       const std::string& optimizer);

//! The keys `key` can set: its own name, or an alias's targets under every
//! optimizer it applies to.
std::vector<std::string> settings_of(const KeySpec& key);

//! The registered key closest to `unknown` by edit distance (comparing whole
//! dotted names and last components), or "" when none is close.
std::string closest_key(std::string_view unknown);

//! A number as a person writes it: 8, 0.5, 1e-05.
std::string format_number(double value);

} // namespace mlxt::config::detail

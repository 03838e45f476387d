// The table of TrainConfig keys. Defaults are not repeated here: they are the
// member initialisers in config.h, read back through each key's `get`.
#include "mlxt/config/registry.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <regex>
#include <type_traits>
#include <utility>

#include "mlxt/core/error.h"
#include "mlxt/optim/catalogue.h"

namespace mlxt::config::detail {

using nlohmann::json;

const char* key_type_name(KeyType type) {
  switch (type) {
  case KeyType::integer:
    return "int";
  case KeyType::number:
    return "float";
  case KeyType::boolean:
    return "bool";
  case KeyType::string:
    return "string";
  case KeyType::string_list:
    return "string list";
  case KeyType::number_list:
    return "float list";
  case KeyType::object:
    return "object";
  }
  return "?";
}

std::string format_number(double value) {
  char buffer[64];
  auto [end, error] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  if (error != std::errc()) {
    return std::to_string(value);
  }
  return std::string(buffer, end);
}

KeySpec& KeySpec::at_least(double v) {
  min = v;
  min_inclusive = true;
  return *this;
}
KeySpec& KeySpec::above(double v) {
  min = v;
  min_inclusive = false;
  return *this;
}
KeySpec& KeySpec::at_most(double v) {
  max = v;
  max_inclusive = true;
  return *this;
}
KeySpec& KeySpec::below(double v) {
  max = v;
  max_inclusive = false;
  return *this;
}
KeySpec& KeySpec::or_special(long value, std::string meaning) {
  special_value = value;
  special_meaning = std::move(meaning);
  return *this;
}
KeySpec& KeySpec::one_of(std::vector<std::string> values) {
  allowed = std::move(values);
  return *this;
}
KeySpec& KeySpec::not_yet(std::vector<std::string> values) {
  not_yet_supported = std::move(values);
  return *this;
}
KeySpec& KeySpec::of_size(std::size_t n) {
  list_size = n;
  return *this;
}
KeySpec& KeySpec::not_empty() {
  non_empty = true;
  return *this;
}
KeySpec& KeySpec::also_replaces(std::string key) {
  replaces.push_back(std::move(key));
  return *this;
}
KeySpec& KeySpec::mandatory() {
  required = true;
  return *this;
}

std::string KeySpec::rule_text() const {
  std::vector<std::string> parts;
  if (!allowed.empty()) {
    std::string text = "one of: ";
    for (std::size_t i = 0; i < allowed.size(); ++i) {
      text += (i ? ", " : "") + allowed[i];
    }
    parts.push_back(text);
  }
  std::string range;
  if (min && max) {
    range = std::string("in ") + (min_inclusive ? "[" : "(") +
            format_number(*min) + ", " + format_number(*max) +
            (max_inclusive ? "]" : ")");
  } else if (min) {
    range = (min_inclusive ? ">= " : "> ") + format_number(*min);
  } else if (max) {
    range = (max_inclusive ? "<= " : "< ") + format_number(*max);
  }
  if (!range.empty() && special_value) {
    range +=
        " (or " + std::to_string(*special_value) + ": " + special_meaning + ")";
  }
  if (!range.empty()) {
    parts.push_back(range);
  }
  if (list_size) {
    parts.push_back(std::to_string(list_size) + " values");
  }
  if (non_empty) {
    parts.push_back("not empty");
  }
  if (!extra_rule.empty()) {
    parts.push_back(extra_rule);
  }
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    out += (i ? "; " : "") + parts[i];
  }
  return out;
}

const std::vector<ScheduleForm>& schedule_forms() {
  // mlx-lm's positional arguments are the catalogue's parameters in order.
  static const std::vector<ScheduleForm> forms = [] {
    std::vector<ScheduleForm> out;
    for (const auto& spec : optim::schedule_specs()) {
      ScheduleForm form{.name = spec.name};
      for (const auto& param : spec.params) {
        form.arguments.push_back(
            {param.name, param.type == optim::ParamType::integer});
        if (param.default_value.is_null()) {
          form.required = form.arguments.size();
        }
      }
      // A constant schedule without arguments runs at learning_rate.
      if (form.name == "constant") {
        form.required = 0;
      }
      out.push_back(std::move(form));
    }
    return out;
  }();
  return forms;
}

namespace {

template <class T>
json to_value(const T& v) {
  return json(v);
}
template <class T>
json to_value(const std::optional<T>& v) {
  return v ? json(*v) : json(nullptr);
}
template <Choice E>
json to_value(const E& v) {
  return to_string(v);
}
template <class T>
void from_value(const json& j, T& out) {
  out = j.get<T>();
}
template <class T>
void from_value(const json& j, std::optional<T>& out) {
  if (j.is_null()) {
    out.reset();
  } else {
    out = j.get<T>();
  }
}
// Only values that passed the key's one_of rule get here.
template <Choice E>
void from_value(const json& j, E& out) {
  out = parse_choice<E>(j.get_ref<const std::string&>()).value();
}

// A key bound to one field; `access` is a generic lambda returning the
// field of a (const or mutable) TrainConfig. A choice enum field is a string
// key that accepts the enum's spellings.
template <class Access>
KeySpec field(std::string name, KeyType type, Access access, std::string help) {
  KeySpec k;
  k.name = std::move(name);
  k.type = type;
  k.help = std::move(help);
  using Field =
      std::remove_cvref_t<decltype(access(std::declval<TrainConfig&>()))>;
  if constexpr (Choice<Field>) {
    k.allowed = choice_names<Field>();
  }
  k.get = [access](const TrainConfig& c) { return to_value(access(c)); };
  k.set = [access](TrainConfig& c, const json& v) { from_value(v, access(c)); };
  return k;
}

KeySpec section(std::string name, std::string help) {
  KeySpec k;
  k.name = std::move(name);
  k.type = KeyType::object;
  k.role = KeyRole::section;
  k.help = std::move(help);
  return k;
}

KeySpec ignored(std::string name, std::string help) {
  KeySpec k;
  k.name = std::move(name);
  k.role = KeyRole::ignored;
  k.help = std::move(help);
  return k;
}

std::string joined(const std::vector<std::string>& items,
                   const std::string& separator) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    out += (i ? separator : "") + items[i];
  }
  return out;
}

// Another spelling of `targets` (one key, or one per element of a list),
// checked by the rules of `rules`; `for_optimizers` limits it to those
// optimizers, and "<optimizer>" in a target names the chosen one.
KeySpec alias(std::string name,
              const KeySpec& rules,
              std::vector<std::string> targets,
              std::vector<std::string> for_optimizers,
              const std::string& spelling) {
  KeySpec k = rules;
  k.name = std::move(name);
  k.role = KeyRole::alias;
  if (targets.size() > 1) {
    k.type = KeyType::number_list; // [beta1, beta2]
    k.list_size = targets.size();
  }
  k.help = "same as " +
           (targets.size() > 1 ? "[" + joined(targets, ", ") + "]"
                               : targets.front()) +
           (for_optimizers.empty()
                ? ""
                : " when optimizer is " + joined(for_optimizers, " or ")) +
           " (" + spelling + ")";
  k.alias_of = std::move(targets);
  k.for_optimizers = std::move(for_optimizers);
  k.required = false;
  k.get = nullptr;
  k.set = nullptr;
  k.catalogue_default = nullptr;
  return k;
}

// mlx-lm's other name of `target`.
KeySpec alias(std::string name, const KeySpec& target) {
  return alias(std::move(name), target, {target.name}, {}, "mlx-lm's spelling");
}

// Members of the optional lr_schedule section: reading an unset schedule
// gives LrSchedule's defaults, writing one creates it.
const LrSchedule& schedule(const std::optional<LrSchedule>& s) {
  static const LrSchedule unset;
  return s ? *s : unset;
}
LrSchedule& schedule(std::optional<LrSchedule>& s) {
  if (!s) {
    s.emplace();
  }
  return *s;
}

// Field access usable on const and mutable configs alike.
#define MLXT_FIELD(path)                                                       \
  [](auto& c) -> auto& {                                                       \
    return c.path;                                                             \
  }
#define MLXT_SCHEDULE_FIELD(member)                                            \
  [](auto& c) -> auto& {                                                       \
    return schedule(c.lr_schedule).member;                                     \
  }

std::optional<std::string> check_run_id(const json& v) {
  static const std::regex pattern("[A-Za-z0-9._-]*");
  const auto& text = v.get_ref<const std::string&>();
  if (!std::regex_match(text, pattern) || text == "." || text == "..") {
    return "may use only letters, digits, '.', '_' and '-' (it names a "
           "folder), got " +
           v.dump();
  }
  return std::nullopt;
}

// Every optimizer with its settings: adam (adamw without weight decay, as
// MLX's Adam) and the catalogue's.
std::vector<std::pair<std::string, std::vector<optim::ParamSpec>>>
optimizer_blocks() {
  std::vector<optim::ParamSpec> adam = optim::optimizer_spec("adamw").params;
  std::erase_if(adam, [](const optim::ParamSpec& param) {
    return param.name == "weight_decay";
  });
  std::vector<std::pair<std::string, std::vector<optim::ParamSpec>>> out = {
      {"adam", adam}};
  for (const auto& spec : optim::optimizer_specs()) {
    out.emplace_back(spec.name, spec.params);
  }
  return out;
}

std::vector<std::string> optimizer_names() {
  std::vector<std::string> names;
  for (const auto& [name, params] : optimizer_blocks()) {
    names.push_back(name);
  }
  return names;
}

// optimizer_config.<optimizer>.<param>, typed and ranged by the catalogue,
// so an unknown or out-of-range setting is reported like any key.
KeySpec optimizer_setting(const std::string& optimizer,
                          const optim::ParamSpec& param) {
  KeySpec k;
  k.name = "optimizer_config." + optimizer + "." + param.name;
  k.type = param.type == optim::ParamType::number    ? KeyType::number
           : param.type == optim::ParamType::integer ? KeyType::integer
                                                     : KeyType::boolean;
  k.help = param.help + " (" + optimizer + ")";
  if (param.type != optim::ParamType::boolean) {
    if (std::isfinite(param.min)) {
      k.min = param.min;
      k.min_inclusive = param.min_inclusive;
    }
    if (std::isfinite(param.max)) {
      k.max = param.max;
      k.max_inclusive = param.max_inclusive;
    }
  }
  k.catalogue_default = param.default_value;
  const std::string member = param.name;
  k.get = [optimizer, member](const TrainConfig& c) -> json {
    auto block = c.optimizer_params.find(optimizer);
    if (block == c.optimizer_params.end()) {
      return nullptr;
    }
    auto value = block->second.find(member);
    return value == block->second.end() ? json(nullptr) : value->second;
  };
  k.set = [optimizer, member](TrainConfig& c, const json& v) {
    if (v.is_null()) {
      c.optimizer_params[optimizer].erase(member);
    } else {
      c.optimizer_params[optimizer][member] = v;
    }
  };
  return k;
}

// The key of adamw's setting `param` (adam's have the same rules).
KeySpec adam_setting(const std::string& optimizer, const std::string& param) {
  for (const auto& spec : optim::optimizer_spec("adamw").params) {
    if (spec.name == param) {
      return optimizer_setting(optimizer, spec);
    }
  }
  fail(ErrorCode::internal,
       "the catalogue's adamw has no parameter '" + param + "'");
}

// optimizer_config.<optimizer> and its settings for every optimizer; adam
// and adamw also take mlx-lm's `betas: [beta1, beta2]`.
template <class Add>
void add_optimizer_keys(Add& add) {
  for (const auto& [name, params] : optimizer_blocks()) {
    KeySpec block = section("optimizer_config." + name,
                            "settings used when optimizer is " + name);
    block.get = [name](const TrainConfig& c) {
      return c.optimizer_params.contains(name) ? json::object() : json(nullptr);
    };
    block.set = [name](TrainConfig& c, const json& v) {
      if (v.is_null()) {
        c.optimizer_params.erase(name);
      } else {
        c.optimizer_params[name];
      }
    };
    add(std::move(block));
    for (const auto& param : params) {
      add(optimizer_setting(name, param));
    }
    if (name == "adam" || name == "adamw") {
      const std::string prefix = "optimizer_config." + name + ".";
      add(alias(prefix + "betas",
                adam_setting(name, "beta1"),
                {prefix + "beta1", prefix + "beta2"},
                {},
                "mlx-lm's spelling"));
    }
  }
}

std::vector<KeySpec> build_keys() {
  using T = KeyType;
  std::vector<KeySpec> keys;
  // Returns a copy: references into `keys` would dangle as it grows.
  auto add = [&keys](KeySpec k) -> KeySpec {
    keys.push_back(k);
    return k;
  };

  // What to train.
  add(field("method",
            T::string,
            MLXT_FIELD(method),
            "training method: sft (supervised), dpo (preference pairs: "
            "prompt, chosen, rejected), reward (a reward model's scalar head "
            "on preference pairs, Bradley-Terry loss), grpo and ppo (online "
            "RL: prompt rows, completions sampled and rewarded; grpo "
            "compares a prompt's completions, ppo learns a value head)"));
  add(field("model",
            T::string,
            MLXT_FIELD(model),
            "model folder (config.json, *.safetensors, tokenizer files) "
            "or a .gguf file")
          .not_empty()
          .mandatory());
  add(field("data",
            T::string,
            MLXT_FIELD(data),
            "folder with train.jsonl and valid.jsonl (test.jsonl for "
            "`test`), or one .jsonl file")
          .not_empty()
          .mandatory());
  add(field("fine_tune_type",
            T::string,
            MLXT_FIELD(fine_tune_type),
            "what to train: LoRA adapters or every weight")
          .not_yet({"dora"}));
  const KeySpec& num_layers =
      add(field("num_layers",
                T::integer,
                MLXT_FIELD(num_layers),
                "apply LoRA to the last N transformer blocks")
              .at_least(1)
              .or_special(-1, "all blocks"));
  add(alias("lora_layers", num_layers));
  add(section("lora_parameters", "LoRA adapter settings"));
  add(field("lora_parameters.rank",
            T::integer,
            MLXT_FIELD(lora_parameters.rank),
            "LoRA rank r")
          .at_least(1));
  add(field("lora_parameters.scale",
            T::number,
            MLXT_FIELD(lora_parameters.scale),
            "multiplier of the LoRA update (mlx-lm's scale; PEFT alpha = "
            "scale * rank); derived as alpha / rank when alpha is given")
          .above(0)
          .also_replaces("lora_parameters.alpha"));
  add(field("lora_parameters.alpha",
            T::number,
            MLXT_FIELD(lora_parameters.alpha),
            "PEFT-style alpha; when given, scale = alpha / rank")
          .above(0)
          .also_replaces("lora_parameters.scale"));
  add(field("lora_parameters.dropout",
            T::number,
            MLXT_FIELD(lora_parameters.dropout),
            "dropout on the LoRA input")
          .at_least(0)
          .below(1));
  add(field("lora_parameters.keys",
            T::string_list,
            MLXT_FIELD(lora_parameters.keys),
            "block-relative modules to adapt, e.g. self_attn.q_proj; empty: "
            "every linear layer of the block"));
  add(field("mask_prompt",
            T::boolean,
            MLXT_FIELD(mask_prompt),
            "train only on completions / assistant turns"));
  add(field("pack_sequences",
            T::boolean,
            MLXT_FIELD(pack_sequences),
            "pack several examples into each row, attention kept inside each "
            "example (Axolotl's sample_packing)"));
  add(field("data_cache",
            T::string,
            MLXT_FIELD(data_cache),
            "encoded-dataset cache folder, reused while the data, tokenizer "
            "and encoding settings are unchanged; empty: "
            "<runs_dir>/.cache/encoded; none: no cache"));
  add(field("streaming",
            T::boolean,
            MLXT_FIELD(streaming),
            "read training examples one cache shard at a time (bounded "
            "memory for datasets larger than memory; needs data_cache)"));
  add(field("data_shard_tokens",
            T::integer,
            MLXT_FIELD(data_shard_tokens),
            "tokens per encoded-cache shard: the memory a streaming run "
            "holds")
          .at_least(1));

  // DPO.
  add(field("beta",
            T::number,
            MLXT_FIELD(beta),
            "dpo: scale of the implicit reward beta * log(pi / pi_ref) "
            "(simpo: of the length-normalised log-prob; orpo: the weight "
            "lambda of the odds-ratio term)")
          .above(0));
  add(field("label_smoothing",
            T::number,
            MLXT_FIELD(label_smoothing),
            "dpo sigmoid, robust and simpo losses: assumed probability that a "
            "pair's labels are flipped (conservative / robust DPO); 0: plain "
            "DPO")
          .at_least(0)
          .below(0.5));
  add(field("loss_type",
            T::string,
            MLXT_FIELD(loss_type),
            "dpo: the loss: sigmoid (DPO), ipo (IPO), hinge (SLiC), robust "
            "(rDPO) against a reference model; simpo (SimPO) and orpo (ORPO: "
            "odds ratio + NLL on chosen) need none"));
  add(field("simpo_gamma",
            T::number,
            MLXT_FIELD(simpo_gamma),
            "dpo simpo loss: target reward margin gamma")
          .at_least(0));
  add(field("ref_model",
            T::string,
            MLXT_FIELD(ref_model),
            "dpo, grpo, ppo: frozen reference model (DPO's implicit reward, "
            "the online methods' KL term), a folder or .gguf with the policy's "
            "vocabulary; empty: for LoRA the base without the trained "
            "adapters (plus the resume_adapter_file adapters when given; no "
            "copy of the base), for full fine-tuning a frozen copy of the "
            "starting weights (one more model in memory, in the compute "
            "dtype)"));
  add(field("precompute_ref_log_probs",
            T::boolean,
            MLXT_FIELD(precompute_ref_log_probs),
            "dpo: compute the reference's log-probs of every pair once before "
            "training and cache them next to the encoded-dataset cache "
            "(reused by later runs); steps then run no reference forward"));

  // Reward model.
  add(field("center_rewards_coefficient",
            T::number,
            MLXT_FIELD(center_rewards_coefficient),
            "reward: weight c of the term c (r_chosen + r_rejected)^2 that "
            "keeps rewards centred on zero (TRL's name); 0: none. A row's "
            "optional `margin` column is subtracted inside the loss")
          .at_least(0));

  // Online RL (grpo, ppo).
  add(field("num_generations",
            T::integer,
            MLXT_FIELD(num_generations),
            "grpo: completions sampled per prompt (a group); batch_size "
            "counts completions and must be a multiple of it")
          .at_least(2));
  add(field("max_completion_length",
            T::integer,
            MLXT_FIELD(max_completion_length),
            "grpo, ppo: new tokens per sampled completion")
          .at_least(1));
  add(field("temperature",
            T::number,
            MLXT_FIELD(temperature),
            "grpo, ppo: sampling temperature of the rollouts")
          .above(0));
  add(field("top_p",
            T::number,
            MLXT_FIELD(top_p),
            "grpo, ppo: nucleus sampling of the rollouts; 1: every token")
          .above(0)
          .at_most(1));
  add(field("reward",
            T::string,
            MLXT_FIELD(reward),
            "grpo, ppo: verifiable reward of a completion against its row's "
            "answer: exact_match (1 if equal after trimming spaces), "
            "contains (1 if the answer appears in it), regex (1 if it fully "
            "matches the answer as an ECMAScript pattern), length (1 - "
            "|bytes - answer| / answer, floored at 0); unused with "
            "reward_model"));
  add(field("reward_model",
            T::string,
            MLXT_FIELD(reward_model),
            "grpo, ppo: rewards from a reward model instead of a rule: a "
            "folder that method: reward wrote (a full fine-tune's model "
            "folder, or a LoRA run's adapter folder with score.safetensors, "
            "its base named by adapter_config.json's model), scoring prompt "
            "+ completion at the last token; it must share the policy's "
            "vocabulary"));
  add(field("kl_coef",
            T::number,
            MLXT_FIELD(kl_coef),
            "grpo, ppo: weight of the per-token KL to the reference, the "
            "base with the adapters off: grpo's loss term (k3 estimator, "
            "TRL's beta), ppo's reward penalty (k1, TRL's kl_coef; the "
            "starting value when kl_target is set)")
          .at_least(0));
  add(field("epsilon",
            T::number,
            MLXT_FIELD(epsilon),
            "grpo, ppo: the probability ratio is clipped to [1 - epsilon, 1 "
            "+ epsilon_high] (ppo: 1 + epsilon; TRL's cliprange)")
          .above(0)
          .below(1));
  add(field("epsilon_high",
            T::number,
            MLXT_FIELD(epsilon_high),
            "grpo: upper clipping bound (DAPO's clip-higher); none: epsilon")
          .above(0));
  add(field("scale_rewards",
            T::string,
            MLXT_FIELD(scale_rewards),
            "grpo: advantages (reward - group mean) divided by the group's "
            "or the batch's reward std (+1e-4), or not scaled (TRL's "
            "scale_rewards)"));
  add(field("grpo_loss_type",
            T::string,
            MLXT_FIELD(grpo_loss_type),
            "grpo: normalisation of the per-token loss: grpo (mean per "
            "sequence), dapo (mean over the step's completion tokens; TRL's "
            "default), dr_grpo (sum / max_completion_length per sequence)"));

  // PPO.
  add(field("ppo_epochs",
            T::integer,
            MLXT_FIELD(ppo_epochs),
            "ppo: optimizer steps on each rollout batch before the next is "
            "sampled (TRL's num_ppo_epochs); iters counts optimizer steps")
          .at_least(1));
  add(field("gamma",
            T::number,
            MLXT_FIELD(gamma),
            "ppo: discount of generalized advantage estimation")
          .at_least(0)
          .at_most(1));
  add(field("lam",
            T::number,
            MLXT_FIELD(lam),
            "ppo: lambda of generalized advantage estimation")
          .at_least(0)
          .at_most(1));
  add(field("cliprange_value",
            T::number,
            MLXT_FIELD(cliprange_value),
            "ppo: the value prediction is clipped to within this of its "
            "value at sampling")
          .above(0));
  add(field("vf_coef",
            T::number,
            MLXT_FIELD(vf_coef),
            "ppo: weight of the value loss")
          .at_least(0));
  add(field("kl_target",
            T::number,
            MLXT_FIELD(kl_target),
            "ppo: adapt kl_coef towards this mean KL per completion "
            "(Ziegler et al.'s controller); none: kl_coef stays fixed")
          .above(0));
  add(field("kl_horizon",
            T::number,
            MLXT_FIELD(kl_horizon),
            "ppo: the adaptive KL controller's horizon in completions")
          .above(0));

  // Loop.
  add(field("batch_size",
            T::integer,
            MLXT_FIELD(batch_size),
            "sequences per step")
          .at_least(1));
  add(field("iters", T::integer, MLXT_FIELD(iters), "optimizer steps to run")
          .at_least(1));
  add(field("grad_accumulation_steps",
            T::integer,
            MLXT_FIELD(grad_accumulation_steps),
            "micro-batches summed into one optimizer step")
          .at_least(1));
  add(field("max_seq_length",
            T::integer,
            MLXT_FIELD(max_seq_length),
            "longer sequences are truncated")
          .at_least(2));
  add(field("seed",
            T::integer,
            MLXT_FIELD(seed),
            "drives weight init, dropout, shuffling and sampling")
          .at_least(0));
  add(field("grad_checkpoint",
            T::boolean,
            MLXT_FIELD(grad_checkpoint),
            "recompute activations in the backward pass to save memory"));
  add(field("train",
            T::boolean,
            MLXT_FIELD(train),
            "mlx-lm's train flag: false skips training and only evaluates "
            "(with `test`)"));

  // Optimizer.
  add(field("optimizer",
            T::string,
            MLXT_FIELD(optimizer),
            "optimizer (adam = adamw without weight decay)")
          .one_of(optimizer_names())
          .not_yet({"muon"}));
  add(field("learning_rate",
            T::number,
            MLXT_FIELD(learning_rate),
            "learning rate; a given lr_schedule replaces it")
          .above(0));
  // Adam's settings at the top level, where earlier resolved configs wrote
  // them: they set the chosen adam or adamw block.
  const std::string chosen =
      "optimizer_config." + std::string(chosen_optimizer);
  add(alias("weight_decay",
            adam_setting("adamw", "weight_decay"),
            {"optimizer_config.adamw.weight_decay"},
            {"adamw"},
            "top-level spelling; adam has no weight decay"));
  add(alias("betas",
            adam_setting("adamw", "beta1"),
            {chosen + ".beta1", chosen + ".beta2"},
            {"adam", "adamw"},
            "top-level spelling"));
  for (const char* param : {"eps", "bias_correction"}) {
    add(alias(param,
              adam_setting("adamw", param),
              {chosen + "." + param},
              {"adam", "adamw"},
              "top-level spelling"));
  }
  KeySpec optimizer_config =
      section("optimizer_config",
              "mlx-lm's per-optimizer settings; only the block named by "
              "`optimizer` is applied");
  // Written when an optimizer has settings: resolving a config gives the
  // chosen optimizer every one of them.
  optimizer_config.get = [](const TrainConfig& c) {
    return c.optimizer_params.empty() ? json(nullptr) : json::object();
  };
  optimizer_config.set = [](TrainConfig&, const json&) {};
  add(std::move(optimizer_config));
  add_optimizer_keys(add);

  KeySpec param_groups = field("param_groups",
                               T::object,
                               MLXT_FIELD(param_groups),
                               "parameter groups: weight_decay_exclude "
                               "patterns and groups [{name, match, lr_scale "
                               "or lr, optimizer settings}]");
  param_groups.extra = [](const json& v) -> std::optional<std::string> {
    for (const auto& [key, _] : v.items()) {
      if (key != "weight_decay_exclude" && key != "groups") {
        return "unknown member '" + key +
               "' (allowed: weight_decay_exclude, groups)";
      }
    }
    return std::nullopt;
  };
  add(std::move(param_groups));

  KeySpec lr_schedule = section(
      "lr_schedule", "learning-rate schedule; none: constant learning_rate");
  lr_schedule.get = [](const TrainConfig& c) {
    return c.lr_schedule ? json::object() : json(nullptr);
  };
  lr_schedule.set = [](TrainConfig& c, const json& v) {
    if (v.is_null()) {
      c.lr_schedule.reset();
    } else if (!c.lr_schedule) {
      c.lr_schedule.emplace();
    }
  };
  add(std::move(lr_schedule));
  std::vector<std::string> schedule_names;
  std::string schedule_signatures;
  for (const auto& form : schedule_forms()) {
    schedule_names.push_back(form.name);
    schedule_signatures +=
        (schedule_signatures.empty() ? "" : ", ") + form.name + " [";
    for (std::size_t i = 0; i < form.arguments.size(); ++i) {
      schedule_signatures += (i ? ", " : "") + form.arguments[i].name;
    }
    schedule_signatures += "]";
  }
  add(field("lr_schedule.name",
            T::string,
            MLXT_SCHEDULE_FIELD(name),
            "schedule function")
          .one_of(schedule_names));
  add(field("lr_schedule.arguments",
            T::number_list,
            MLXT_SCHEDULE_FIELD(arguments),
            "the schedule's arguments: " + schedule_signatures));
  add(field("lr_schedule.warmup",
            T::integer,
            MLXT_SCHEDULE_FIELD(warmup),
            "linear warm-up steps before the schedule")
          .at_least(0));
  add(field("lr_schedule.warmup_init",
            T::number,
            MLXT_SCHEDULE_FIELD(warmup_init),
            "learning rate at the first warm-up step")
          .at_least(0));
  add(field("max_grad_norm",
            T::number,
            MLXT_FIELD(max_grad_norm),
            "clip gradients to this global L2 norm; none: no clipping")
          .above(0));
  add(field("nonfinite_policy",
            T::string,
            MLXT_FIELD(nonfinite_policy),
            "a step with a NaN/Inf loss or gradient norm is never applied; "
            "fail: stop naming the step, skip: go on"));
  add(field("max_skipped_steps",
            T::integer,
            MLXT_FIELD(max_skipped_steps),
            "skip policy: fail after this many skipped steps in a row")
          .at_least(1));

  // Precision.
  add(field("compute_dtype",
            T::string,
            MLXT_FIELD(compute_dtype),
            "dtype of the forward and backward pass"));
  add(field("master_weights_fp32",
            T::boolean,
            MLXT_FIELD(master_weights_fp32),
            "full fine-tuning: keep float32 weights, compute in "
            "compute_dtype"));

  // Reporting, evaluation, saving.
  add(field("steps_per_report",
            T::integer,
            MLXT_FIELD(steps_per_report),
            "steps between training-loss reports")
          .at_least(1));
  add(field("steps_per_eval",
            T::integer,
            MLXT_FIELD(steps_per_eval),
            "steps between validations")
          .at_least(1));
  add(field("val_batches",
            T::integer,
            MLXT_FIELD(val_batches),
            "validation batches per evaluation")
          .at_least(1)
          .or_special(-1, "the whole validation set"));
  add(field("save_every",
            T::integer,
            MLXT_FIELD(save_every),
            "steps between intermediate saves and checkpoints")
          .at_least(1)
          .or_special(0, "only the final save"));
  add(field("keep_checkpoints",
            T::integer,
            MLXT_FIELD(keep_checkpoints),
            "newest complete checkpoints kept in runs/<id>/checkpoints")
          .at_least(1));
  add(field("keep_best_checkpoint",
            T::boolean,
            MLXT_FIELD(keep_best_checkpoint),
            "also keep the checkpoint with the lowest validation loss"));
  add(field("adapter_path",
            T::string,
            MLXT_FIELD(adapter_path),
            "where LoRA adapters / full weights are written")
          .not_empty());
  add(field("resume_adapter_file",
            T::string,
            MLXT_FIELD(resume_adapter_file),
            "adapter weights to start from; empty: fresh adapters"));
  add(field("runs_dir",
            T::string,
            MLXT_FIELD(runs_dir),
            "folder holding runs/<run_id>/")
          .not_empty());
  KeySpec run_id = field("run_id",
                         T::string,
                         MLXT_FIELD(run_id),
                         "name of this run's folder; empty: from the time");
  run_id.extra = check_run_id;
  run_id.extra_rule = "letters, digits, '.', '_', '-'";
  add(std::move(run_id));
  add(field("test",
            T::boolean,
            MLXT_FIELD(test),
            "evaluate on test.jsonl after training"));
  add(field("test_batches",
            T::integer,
            MLXT_FIELD(test_batches),
            "test batches for `test`")
          .at_least(1)
          .or_special(-1, "the whole test set"));
  add(field("progress_bar",
            T::boolean,
            MLXT_FIELD(progress_bar),
            "show a progress bar when stderr is a terminal"));
  const KeySpec& project_name = add(
      field("project_name",
            T::string,
            MLXT_FIELD(project_name),
            "experiment-tracker project (kept in the run's config; mlx-train "
            "reports to no external service)"));
  add(alias("wandb", project_name));
  add(field("report_to",
            T::string,
            MLXT_FIELD(report_to),
            "mlx-lm's tracker list, e.g. wandb (kept in the run's config; "
            "mlx-train reports to no external service)"));
  add(ignored("config", "mlx-lm's path of this very file; ignored"));
  return keys;
}

#undef MLXT_FIELD
#undef MLXT_SCHEDULE_FIELD

} // namespace

const std::vector<KeySpec>& config_keys() {
  static const std::vector<KeySpec> keys = build_keys();
  return keys;
}

const KeySpec* find_key(std::string_view name) {
  static const std::map<std::string, const KeySpec*, std::less<>> index = [] {
    std::map<std::string, const KeySpec*, std::less<>> out;
    for (const auto& k : config_keys()) {
      out.emplace(k.name, &k);
    }
    return out;
  }();
  auto it = index.find(name);
  return it == index.end() ? nullptr : it->second;
}

std::vector<std::string> alias_targets(const KeySpec& key,
                                       const std::string& optimizer) {
  const auto& only = key.for_optimizers;
  if (!only.empty() &&
      std::find(only.begin(), only.end(), optimizer) == only.end()) {
    return {};
  }
  std::vector<std::string> targets = key.alias_of;
  for (auto& target : targets) {
    if (auto at = target.find(chosen_optimizer); at != std::string::npos) {
      target.replace(at, chosen_optimizer.size(), optimizer);
    }
  }
  return targets;
}

std::vector<std::string> settings_of(const KeySpec& key) {
  if (key.role != KeyRole::alias) {
    return {key.name};
  }
  if (key.for_optimizers.empty()) {
    return key.alias_of;
  }
  std::vector<std::string> out;
  for (const auto& optimizer : key.for_optimizers) {
    auto targets = alias_targets(key, optimizer);
    out.insert(out.end(), targets.begin(), targets.end());
  }
  return out;
}

} // namespace mlxt::config::detail

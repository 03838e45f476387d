// mlxt train --config FILE [--key value ...]
#include <iostream>

#include "mlxt/cli/commands.h"
#include "mlxt/core/error.h"
#include "mlxt/train/config.h"
#include "mlxt/train/sft.h"

namespace mlxt::cli {

namespace {

// "--key value" / "--key=value" pairs left over by CLI11 become overrides.
std::vector<train::ConfigOverride>
parse_overrides(const std::vector<std::string>& extras) {
  std::vector<train::ConfigOverride> overrides;
  for (size_t i = 0; i < extras.size(); ++i) {
    const std::string& arg = extras[i];
    if (!arg.starts_with("--") || arg.size() == 2) {
      fail(ErrorCode::invalid_config,
           "unexpected argument \"" + arg + "\"; overrides are --key value");
    }
    std::string key = arg.substr(2);
    std::replace(key.begin(), key.end(), '-', '_');
    if (auto eq = key.find('='); eq != std::string::npos) {
      overrides.push_back({key.substr(0, eq), key.substr(eq + 1)});
      continue;
    }
    if (i + 1 >= extras.size()) {
      fail(ErrorCode::invalid_config, "missing a value", {.key = key});
    }
    overrides.push_back({key, extras[++i]});
  }
  return overrides;
}

} // namespace

void add_train_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("train", "Fine-tune a model (full or LoRA)");
  auto config = std::make_shared<std::string>();
  auto describe = std::make_shared<bool>(false);
  cmd->add_option(
      "-c,--config", *config, "YAML or JSON config (mlx-lm keys accepted)");
  cmd->add_flag("--help-config", *describe, "List every config key and exit");
  cmd->allow_extras();
  cmd->footer("Any config key can be given as --key value (nested: "
              "--lora_parameters.rank 16).");
  cmd->callback([cmd, config, describe] {
    if (*describe) {
      std::cout << train::describe_train_options();
      return;
    }
    auto overrides = parse_overrides(cmd->remaining());
    train::TrainConfig c = train::load_train_config(*config, overrides);
    train::SftResult r = train::run_sft(c, std::cerr);
    std::cout << "trained: " << r.output_dir << " (run folder " << r.run_dir
              << ")\n";
  });
}

} // namespace mlxt::cli

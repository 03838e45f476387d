// mlxt train --config FILE [--key value ...]
#include <cstdlib>
#include <iostream>

#include "mlxt/cli/commands.h"
#include "mlxt/config/config.h"
#include "mlxt/core/error.h"
#include "mlxt/train/checkpointing.h"
#include "mlxt/train/methods/methods.h"
#include "mlxt/train/stop_request.h"

namespace mlxt::cli {

namespace {

// "--key value" / "--key=value" pairs left over by CLI11 become overrides
// (main has already put the keys in the underscore spelling).
std::vector<config::ConfigOverride>
parse_overrides(const std::vector<std::string>& extras) {
  std::vector<config::ConfigOverride> overrides;
  for (size_t i = 0; i < extras.size(); ++i) {
    const std::string& arg = extras[i];
    if (!arg.starts_with("--") || arg.size() == 2) {
      fail(ErrorCode::invalid_config,
           "unexpected argument \"" + arg + "\"; overrides are --key value");
    }
    std::string key = arg.substr(2);
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
  auto resume = std::make_shared<std::string>();
  auto force = std::make_shared<bool>(false);
  cmd->add_option(
      "-c,--config", *config, "YAML or JSON config (mlx-lm keys accepted)");
  cmd->add_option("--resume",
                  *resume,
                  "continue a run: its folder (newest intact checkpoint) or "
                  "one checkpoint folder; the run's saved config applies");
  cmd->add_flag("--force",
                *force,
                "with --resume: continue although the model, data or batch "
                "shape changed (the run is marked as not exact)");
  cmd->add_flag("--help_config", *describe, "List every config key and exit");
  cmd->allow_extras();
  cmd->footer("Any config key can be given as --key value (nested: "
              "--lora_parameters.rank 16); --help_config lists the keys with "
              "their defaults. SIGTERM/SIGINT save the output and a checkpoint "
              "at the next step and exit with status 75.");
  cmd->callback([cmd, config, describe, resume, force] {
    if (*describe) {
      std::cout << config::describe_train_options();
      return;
    }
    auto overrides = parse_overrides(cmd->remaining());
    train::ResumeFrom from{.force = *force};
    std::filesystem::path config_file = *config;
    if (!resume->empty()) {
      if (!config->empty()) {
        fail(ErrorCode::invalid_config,
             "--resume continues with the run's saved config; give changes "
             "as --key value instead of --config");
      }
      from.checkpoint = train::resolve_resume_checkpoint(*resume, std::cerr);
      config_file = *from.checkpoint / "config.json";
    }
    config::TrainConfig c = config::load_train_config(config_file, overrides);
    train::install_stop_handlers();
    train::RunResult r = train::run_training(c, std::cerr, from);
    if (r.stopped) {
      std::cout << "stopped: " << r.output_dir
                << " holds the output so far; checkpoint written in "
                << r.run_dir << "/checkpoints; continue with mlxt train "
                << "--resume " << r.run_dir << "\n";
      std::exit(train::kStoppedExitStatus);
    }
    std::cout << "trained: " << r.output_dir << " (run folder " << r.run_dir
              << ")\n";
  });
}

} // namespace mlxt::cli

// The `mlxt` subcommands. Each add_*_command registers one subcommand on the
// app; its callback runs it and may throw mlxt::Error, which main() reports.
#pragma once

#include <CLI/CLI.hpp>

namespace mlxt::cli {

void add_train_command(CLI::App& app);
void add_generate_command(CLI::App& app);
void add_init_model_command(CLI::App& app);
void add_eval_command(CLI::App& app);
void add_score_command(CLI::App& app); // reward-model scores of data rows
void add_serve_command(CLI::App& app);
void add_jobs_command(CLI::App& app); // jobs and pipelines
void add_data_command(CLI::App& app);
void add_convert_command(CLI::App& app);
void add_chat_template_command(CLI::App& app);
void add_tokenize_command(CLI::App& app);
void add_models_command(CLI::App& app); // models list, fetch, download

} // namespace mlxt::cli

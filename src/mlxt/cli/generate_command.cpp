// mlxt generate --model DIR [--adapter DIR] (--prompt TEXT | --prompts FILE)
//   [--verbose]
#include <fstream>
#include <iomanip>
#include <iostream>

#include <nlohmann/json.hpp>

#include "mlxt/core/error.h"

#include "mlxt/cli/commands.h"
#include "mlxt/cli/loaded_model.h"
#include "mlxt/generate/generate.h"

namespace mlxt::cli {

namespace {

// The "prompt" of each line of a JSONL file; a bad line is named.
std::vector<std::string> read_prompts(const std::string& file) {
  std::ifstream in(file);
  if (!in) {
    fail(ErrorCode::not_found, "cannot open the prompts file", {.file = file});
  }
  std::vector<std::string> prompts;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) {
      continue;
    }
    const auto row = nlohmann::json::parse(line, nullptr, false);
    if (!row.is_object() || !row.contains("prompt") ||
        !row["prompt"].is_string()) {
      fail(ErrorCode::invalid_data,
           "expected a JSON object with a string \"prompt\"",
           {.file = file, .line = number, .key = "prompt"});
    }
    prompts.push_back(row["prompt"].get<std::string>());
  }
  return prompts;
}

} // namespace

void add_generate_command(CLI::App& app) {
  struct Options {
    std::string model, adapter, prompt, prompts, system;
    int max_tokens = 100;
    float temperature = 0.0f, top_p = 1.0f;
    int seed = 0;
    bool raw = false, verbose = false;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("generate", "Generate text from a prompt");
  cmd->add_option("-m,--model", o->model, "Model folder or .gguf file")
      ->required();
  cmd->add_option(
      "-a,--adapter", o->adapter, "LoRA adapter folder (adapters.safetensors)");
  auto* one = cmd->add_option("-p,--prompt", o->prompt, "Prompt text");
  cmd->add_option("--prompts",
                  o->prompts,
                  "JSONL file of {\"prompt\": TEXT} rows: one model load, "
                  "one {\"prompt\", \"completion\"} JSON line per row")
      ->excludes(one);
  cmd->add_option("--system", o->system, "System message (chat models)");
  cmd->add_option("--max_tokens", o->max_tokens, "Tokens to generate")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--temp,--temperature",
                  o->temperature,
                  "Sampling temperature; 0 = greedy")
      ->check(CLI::Range(0.0f, 100.0f));
  cmd->add_option("--top_p", o->top_p, "Nucleus sampling mass")
      ->check(CLI::Range(0.0f, 1.0f));
  cmd->add_option("--seed", o->seed, "Sampling seed");
  cmd->add_flag(
      "--raw", o->raw, "Use the prompt as is, without the chat template");
  cmd->add_flag("-v,--verbose",
                o->verbose,
                "Report time to first token and tokens/s on stderr");
  cmd->callback([o] {
    if (o->prompt.empty() == o->prompts.empty()) {
      fail(ErrorCode::invalid_config,
           "generate: give --prompt TEXT or --prompts FILE",
           {.key = "prompt"});
    }
    LoadedModel m = load_for_inference(o->model, o->adapter);
    generate::SamplingOptions sampling{.max_tokens = o->max_tokens,
                                       .temperature = o->temperature,
                                       .top_p = o->top_p,
                                       .seed = o->seed};
    if (auto eos = m.tokenizer.eos_id()) {
      sampling.stop_ids.push_back(*eos);
    }
    auto complete = [&](const std::string& text,
                        generate::GenerationStats* stats) {
      std::vector<int> prompt = encode_prompt(m, text, o->system, o->raw);
      return m.tokenizer.decode(generate::generate_tokens(
          m.model.args, m.model.weights, m.ctx, prompt, sampling, {}, stats));
    };
    if (!o->prompts.empty()) {
      for (const std::string& text : read_prompts(o->prompts)) {
        std::cout << nlohmann::json{{"prompt", text},
                                    {"completion", complete(text, nullptr)}}
                         .dump()
                  << std::endl;
      }
      return;
    }
    generate::GenerationStats stats;
    std::cout << complete(o->prompt, &stats) << std::endl;
    if (o->verbose) {
      std::cerr << std::fixed << std::setprecision(3)
                << "prompt: " << stats.prompt_tokens
                << " tokens, time to first token "
                << stats.time_to_first_token_s << " s (" << std::setprecision(1)
                << stats.prompt_tokens_per_s() << " tokens/s)\n"
                << "generation: " << stats.generated_tokens << " tokens, "
                << stats.generation_tokens_per_s() << " tokens/s\n";
    }
  });
}

} // namespace mlxt::cli

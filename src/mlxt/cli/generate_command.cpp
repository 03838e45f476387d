// mlxt generate --model DIR [--adapter DIR] --prompt TEXT [--verbose]
#include <iomanip>
#include <iostream>

#include "mlxt/cli/commands.h"
#include "mlxt/cli/loaded_model.h"
#include "mlxt/generate/generate.h"

namespace mlxt::cli {

void add_generate_command(CLI::App& app) {
  struct Options {
    std::string model, adapter, prompt, system;
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
  cmd->add_option("-p,--prompt", o->prompt, "Prompt text")->required();
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
    LoadedModel m = load_for_inference(o->model, o->adapter);
    std::vector<int> prompt = encode_prompt(m, o->prompt, o->system, o->raw);
    generate::SamplingOptions sampling{.max_tokens = o->max_tokens,
                                       .temperature = o->temperature,
                                       .top_p = o->top_p,
                                       .seed = o->seed};
    if (auto eos = m.tokenizer.eos_id()) {
      sampling.stop_ids.push_back(*eos);
    }
    generate::GenerationStats stats;
    std::vector<int> ids = generate::generate_tokens(
        m.model.args, m.model.weights, m.ctx, prompt, sampling, {}, &stats);
    std::cout << m.tokenizer.decode(ids) << std::endl;
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

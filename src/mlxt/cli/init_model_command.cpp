// mlxt init-model --arch A --preset P --out DIR [--tokenizer_corpus FILE...]
#include <fstream>
#include <iostream>

#include "mlxt/cli/commands.h"
#include "mlxt/core/atomic_file.h"
#include "mlxt/core/error.h"
#include "mlxt/models/init.h"
#include "mlxt/tokenizer/tokenizer.h"

namespace mlxt::cli {

namespace fs = std::filesystem;

namespace {

// Every string value of a JSON document, depth first.
void collect_strings(const nlohmann::json& value,
                     std::vector<std::string>& out) {
  if (value.is_string()) {
    out.push_back(value.get<std::string>());
  } else if (value.is_structured()) {
    for (const auto& item : value) {
      collect_strings(item, out);
    }
  }
}

// Texts to train the tokenizer on: JSONL files contribute their string
// values, other files their lines.
std::vector<std::string> read_corpus(const std::vector<std::string>& files) {
  std::vector<std::string> texts;
  for (const auto& file : files) {
    std::ifstream in(file);
    if (!in) {
      fail(ErrorCode::not_found,
           "cannot open the tokenizer corpus",
           {.file = file});
    }
    std::string line;
    long number = 0;
    const bool jsonl = fs::path(file).extension() == ".jsonl";
    while (std::getline(in, line)) {
      ++number;
      if (!jsonl) {
        texts.push_back(line + "\n");
        continue;
      }
      if (line.find_first_not_of(" \t\r") == std::string::npos) {
        continue;
      }
      try {
        collect_strings(nlohmann::json::parse(line), texts);
      } catch (const nlohmann::json::exception& e) {
        fail(ErrorCode::invalid_data,
             std::string("invalid JSON: ") + e.what(),
             {.file = file, .line = number});
      }
    }
  }
  return texts;
}

} // namespace

void add_init_model_command(CLI::App& app) {
  struct Options {
    models::InitOptions init;
    std::string out;
    std::vector<std::string> corpus;
    int vocab_size = 1024;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand("init-model",
                                 "Write a random-initialised model folder");
  cmd->add_option("--arch", o->init.arch, "llama | mistral | qwen2 | qwen3")
      ->check(CLI::IsMember({"llama", "mistral", "qwen2", "qwen3"}));
  cmd->add_option("--preset", o->init.preset, "tiny | small")
      ->check(CLI::IsMember({"tiny", "small"}));
  cmd->add_option("--out", o->out, "Output folder")->required();
  cmd->add_option("--seed", o->init.seed, "Weight-initialisation seed");
  cmd->add_option("--init_std",
                  o->init.init_std,
                  "Standard deviation of the random matrices")
      ->check(CLI::Range(1e-6f, 10.0f));
  cmd->add_option("--vocab_size",
                  o->vocab_size,
                  "Tokenizer vocabulary size (with 256 bytes and specials)")
      ->check(CLI::Range(260, 1 << 20));
  cmd->add_option("--tokenizer_corpus",
                  o->corpus,
                  "Text or JSONL files to train the byte-level BPE on");
  cmd->callback([o] {
    tokenizer::BpeTrainOptions bpe;
    bpe.vocab_size = o->vocab_size;
    bpe.special_tokens = {"<|endoftext|>", "<|im_start|>", "<|im_end|>"};
    auto [tokenizer_json, tokenizer_config] =
        tokenizer::train_byte_level_bpe(read_corpus(o->corpus), bpe);
    const fs::path out = o->out;
    fs::create_directories(out);
    write_file_atomic(out / "tokenizer.json", tokenizer_json.dump(2) + "\n");
    write_file_atomic(out / "tokenizer_config.json",
                      tokenizer_config.dump(2) + "\n");
    // The model's vocabulary covers every id the tokenizer can produce.
    o->init.vocab_size = tokenizer::Tokenizer::load(out).vocab_size();
    models::Model model = models::init_model(o->init);
    if (auto eos = tokenizer::Tokenizer::load(out).eos_id()) {
      model.args.config["eos_token_id"] = *eos;
    }
    models::save_model(out, model);
    std::cout << "wrote " << out.string() << ": " << o->init.arch << " "
              << o->init.preset << ", " << param_count(model.weights)
              << " parameters, vocabulary " << o->init.vocab_size << "\n";
    if (o->init.vocab_size < o->vocab_size) {
      // The trainer stops when no pair occurs min_frequency times.
      std::cout << "note: the corpus supports only " << o->init.vocab_size
                << " tokens of the " << o->vocab_size
                << " requested (no pair left to merge)\n";
    }
  });
}

} // namespace mlxt::cli

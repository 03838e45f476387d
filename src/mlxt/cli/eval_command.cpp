// mlxt eval --model DIR [--adapter DIR] --data PATH [--split valid]
#include <iostream>

#include "mlxt/cli/commands.h"
#include "mlxt/cli/loaded_model.h"
#include "mlxt/core/error.h"
#include "mlxt/data/sft_data.h"
#include "mlxt/train/evaluate.h"

namespace mlxt::cli {

void add_eval_command(CLI::App& app) {
  struct Options {
    std::string model, adapter, data, split = "valid";
    int batch_size = 4, max_seq_length = 2048, batches = -1;
    bool mask_prompt = false;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "eval", "Loss and perplexity of a model on a dataset split");
  cmd->add_option("-m,--model", o->model, "Model folder or .gguf file")
      ->required();
  cmd->add_option("-a,--adapter", o->adapter, "LoRA adapter folder");
  cmd->add_option("--data", o->data, "Data folder or .jsonl file")->required();
  cmd->add_option("--split", o->split, "train | valid | test")
      ->check(CLI::IsMember({"train", "valid", "test"}));
  cmd->add_option("--batch_size", o->batch_size, "Examples per batch")
      ->check(CLI::PositiveNumber);
  cmd->add_option(
         "--max_seq_length", o->max_seq_length, "Longer examples are cut")
      ->check(CLI::Range(2, 1 << 20));
  cmd->add_option("--batches", o->batches, "Batches to evaluate; -1 = all");
  cmd->add_flag("--mask_prompt",
                o->mask_prompt,
                "Score only completions / assistant turns");
  cmd->callback([o] {
    LoadedModel m = load_for_inference(o->model, o->adapter);
    data::EncodedDataset dataset = data::load_sft_data(
        o->data,
        m.tokenizer,
        {.mask_prompt = o->mask_prompt, .max_seq_length = o->max_seq_length});
    const data::EncodedSplit* split =
        o->split == "train"   ? &dataset.train
        : o->split == "valid" ? (dataset.valid ? &*dataset.valid : nullptr)
                              : (dataset.test ? &*dataset.test : nullptr);
    if (split == nullptr) {
      fail(ErrorCode::not_found,
           "the data has no " + o->split + " split",
           {.file = o->data});
    }
    train::Evaluator evaluator(m.model.args, m.ctx);
    train::EvalResult r =
        evaluator.run(m.model.weights,
                      split->examples,
                      {.batch_size = o->batch_size,
                       .pad_multiple = data::default_pad_multiple(),
                       .max_seq_length = o->max_seq_length},
                      o->batches);
    nlohmann::json out = {
        {"loss", r.loss}, {"perplexity", r.perplexity}, {"tokens", r.tokens}};
    std::cout << out.dump() << std::endl;
  });
}

} // namespace mlxt::cli

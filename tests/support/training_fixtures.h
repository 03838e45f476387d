// What the end-to-end training tests share: a tiny model made by the real
// `mlxt init-model`, a small chat dataset it can learn, and metrics.jsonl
// readers.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/test_support.h"

namespace mlxt::testing {

//! train.jsonl (64 rows) and valid.jsonl (8 rows) in `dir`: "Echo: <word>"
//! answered by "<word> <word>", in chat messages. Validation rows repeat
//! training words: the tests check that training fits, not generalisation.
void write_echo_chat_dataset(const std::filesystem::path& dir);

//! Runs `mlxt init-model` for a tiny llama with a byte-level BPE of 300
//! tokens trained on `corpus`, into `out`. Returns the command's output on
//! failure, "" on success.
std::string init_tiny_model(const std::filesystem::path& out,
                            const std::filesystem::path& corpus);

//! Prompt rows for online RL (grpo, ppo) in `dir`: train.jsonl and
//! valid.jsonl hold "Say: <word>" for 8 words, each with the answer "o" (the
//! `contains` rule rewards a completion with the letter o, which the
//! untrained tiny model writes in about one completion of five), and
//! corpus.txt the text to train the tiny model's tokenizer on.
void write_letter_prompts(const std::filesystem::path& dir);

//! The argument list of `mlxt train --method METHOD` on `dir`/model and
//! `dir`/data, writing runs/<run_id> and adapters-<run_id> under `dir`,
//! then `flags`.
std::vector<std::string> train_command(const std::string& method,
                                       const std::filesystem::path& dir,
                                       const std::string& run_id,
                                       const std::vector<std::string>& flags);

//! Runs `args` with MLXT_FAILPOINTS set to `failpoints` (core/failpoint.h:
//! "train.step:6" SIGKILLs the trainer after step 6); "" sets none.
CommandResult run_with_failpoints(const std::vector<std::string>& args,
                                  const std::string& failpoints);

//! Expects run `resumed` under `runs` (killed, then resumed to the end) to
//! have reported every train record of the uninterrupted run `whole`, the
//! resumed copy of a step counting where both exist, timings aside, and to
//! have left the same trainable arrays in its checkpoint of `last_step`.
void expect_resumed_run_matches(const std::filesystem::path& runs,
                                const std::string& whole,
                                const std::string& resumed,
                                int last_step);

//! Every record of a metrics.jsonl file.
std::vector<nlohmann::json> read_metrics(const std::filesystem::path& file);

//! The records whose "event" is `name`.
std::vector<nlohmann::json>
metric_events(const std::vector<nlohmann::json>& records,
              const std::string& name);

//! The mean of `key` over records[begin, end).
double mean_of(const std::vector<nlohmann::json>& records,
               size_t begin,
               size_t end,
               const std::string& key);

//! What a train record says about training: without its timings
//! (throughput, elapsed and remaining time, peak memory), which differ
//! between two runs of the same training.
nlohmann::json without_timings(nlohmann::json record);

} // namespace mlxt::testing

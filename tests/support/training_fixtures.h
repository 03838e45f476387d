// What the end-to-end training tests share: a tiny model made by the real
// `mlxt init-model`, a small chat dataset it can learn, and metrics.jsonl
// readers.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

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

//! Every record of a metrics.jsonl file.
std::vector<nlohmann::json> read_metrics(const std::filesystem::path& file);

//! The records whose "event" is `name`.
std::vector<nlohmann::json>
metric_events(const std::vector<nlohmann::json>& records,
              const std::string& name);

} // namespace mlxt::testing

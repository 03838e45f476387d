#include "support/training_fixtures.h"

#include <fstream>

#include "support/test_support.h"

namespace mlxt::testing {

namespace fs = std::filesystem;
using nlohmann::json;

void write_echo_chat_dataset(const fs::path& dir) {
  const std::vector<std::string> words = {"apple",
                                          "river",
                                          "stone",
                                          "cloud",
                                          "tiger",
                                          "maple",
                                          "ocean",
                                          "piano",
                                          "candle",
                                          "forest",
                                          "silver",
                                          "rocket",
                                          "garden",
                                          "window",
                                          "bridge",
                                          "violet"};
  auto row = [](const std::string& w) {
    return json{{"messages",
                 {{{"role", "user"}, {"content", "Echo: " + w}},
                  {{"role", "assistant"}, {"content", w + " " + w}}}}}
        .dump();
  };
  std::string train, valid;
  for (int rep = 0; rep < 4; ++rep) {
    for (const auto& w : words) {
      train += row(w) + "\n";
    }
  }
  for (size_t i = 0; i < words.size(); i += 2) {
    valid += row(words[i]) + "\n";
  }
  write_file(dir / "train.jsonl", train);
  write_file(dir / "valid.jsonl", valid);
}

std::string init_tiny_model(const fs::path& out, const fs::path& corpus) {
  // A larger init scale than HF's 0.02: with a frozen random embedding of
  // std 0.02, LoRA alone can move the logits only by about +-1.
  auto r = run_command({mlxt_binary(),
                        "init-model",
                        "--arch",
                        "llama",
                        "--preset",
                        "tiny",
                        "--out",
                        out.string(),
                        "--vocab-size",
                        "300",
                        "--init-std",
                        "0.2",
                        "--tokenizer-corpus",
                        corpus.string()});
  return r.exit_code == 0 ? "" : r.output;
}

std::vector<json> read_metrics(const fs::path& file) {
  std::vector<json> records;
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    records.push_back(json::parse(line));
  }
  return records;
}

std::vector<json> metric_events(const std::vector<json>& records,
                                const std::string& name) {
  std::vector<json> out;
  for (const auto& r : records) {
    if (r["event"] == name) {
      out.push_back(r);
    }
  }
  return out;
}

} // namespace mlxt::testing

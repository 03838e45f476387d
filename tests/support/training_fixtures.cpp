#include "support/training_fixtures.h"

#include <fstream>
#include <iomanip>
#include <map>
#include <sstream>

#include "mlxt/core/sha256.h"
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

void write_letter_prompts(const fs::path& dir) {
  const std::vector<std::string> words = {
      "apple", "river", "stone", "cloud", "tiger", "maple", "ocean", "piano"};
  std::string rows, corpus;
  for (const auto& w : words) {
    rows += json{{"prompt", "Say: " + w}, {"answer", "o"}}.dump() + "\n";
    corpus += "Say: " + w + " " + w + " e e\n";
  }
  write_file(dir / "train.jsonl", rows);
  write_file(dir / "valid.jsonl", rows);
  write_file(dir / "corpus.txt", corpus);
}

std::vector<std::string> train_command(const std::string& method,
                                       const fs::path& dir,
                                       const std::string& run_id,
                                       const std::vector<std::string>& flags) {
  std::vector<std::string> args = {mlxt_binary(),
                                   "train",
                                   "--method",
                                   method,
                                   "--model",
                                   (dir / "model").string(),
                                   "--data",
                                   (dir / "data").string(),
                                   "--runs_dir",
                                   (dir / "runs").string(),
                                   "--run_id",
                                   run_id,
                                   "--adapter_path",
                                   (dir / ("adapters-" + run_id)).string()};
  args.insert(args.end(), flags.begin(), flags.end());
  return args;
}

double mean_of(const std::vector<json>& records,
               size_t begin,
               size_t end,
               const std::string& key) {
  double sum = 0.0;
  for (size_t i = begin; i < end; ++i) {
    sum += records[i][key].get<double>();
  }
  return sum / double(end - begin);
}

json without_timings(json record) {
  for (const char* key : {"tokens_per_sec",
                          "target_tokens_per_sec",
                          "seconds_per_step",
                          "elapsed_seconds",
                          "eta_seconds",
                          "peak_memory_gb"}) {
    record.erase(key);
  }
  return record;
}

CommandResult run_with_failpoints(const std::vector<std::string>& args,
                                  const std::string& failpoints) {
  std::vector<std::pair<std::string, std::string>> env;
  if (!failpoints.empty()) {
    env.emplace_back("MLXT_FAILPOINTS", failpoints);
  }
  return run_command(args, env);
}

void expect_resumed_run_matches(const fs::path& runs,
                                const std::string& whole,
                                const std::string& resumed,
                                int last_step) {
  const std::vector<json> whole_trains =
      metric_events(read_metrics(runs / whole / "metrics.jsonl"), "train");
  std::map<int, json> by_step;
  for (const auto& t :
       metric_events(read_metrics(runs / resumed / "metrics.jsonl"), "train")) {
    by_step[t["step"].get<int>()] = without_timings(t); // the resumed wins
  }
  for (const auto& t : whole_trains) {
    EXPECT_EQ(by_step[t["step"].get<int>()], without_timings(t));
  }
  std::ostringstream step;
  step << "checkpoints/step-" << std::setw(8) << std::setfill('0') << last_step
       << "/trainable.safetensors";
  const fs::path a = runs / whole / step.str();
  const fs::path b = runs / resumed / step.str();
  ASSERT_TRUE(fs::exists(a)) << a;
  ASSERT_TRUE(fs::exists(b)) << b;
  EXPECT_EQ(sha256_file_hex(b), sha256_file_hex(a));
}

} // namespace mlxt::testing

// data_bench: throughput and memory of the data pipeline.
//
//   data_bench stream --gb 2 [--file /tmp/x.jsonl]
//     generates (once) a JSON Lines file of about N GB of chat rows and
//     streams it through read + validate, printing rows/s and the peak RSS;
//     then resumes from a mid-file cursor by seeking and checks the row.
//   data_bench pipeline --data FILE --tokenizer DIR [--max-seq-length 2048]
//     read + validate + tokenize + pack, printing one JSON line with rows/s
//     (bench/data_vs_hf_datasets.py runs it beside HF datasets + tokenizers).
#include <sys/resource.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <CLI/CLI.hpp>

#include "mlxt/core/error.h"
#include "mlxt/data/dataset.h"
#include "mlxt/data/encode.h"
#include "mlxt/data/packing.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0; // ru_maxrss is in KiB on Linux
}

void generate(const fs::path& file, double gb) {
  if (fs::exists(file) && fs::file_size(file) >= gb * 1e9) {
    return;
  }
  std::ofstream out(file, std::ios::binary);
  const std::string filler(200, 'x');
  uint64_t bytes = 0;
  for (long i = 0; bytes < gb * 1e9; ++i) {
    std::string row = "{\"messages\": [{\"role\": \"user\", \"content\": "
                      "\"question " +
                      std::to_string(i) + " " + filler +
                      "\"}, {\"role\": \"assistant\", \"content\": \"answer " +
                      std::to_string(i) + " " + filler + filler + "\"}]}\n";
    out << row;
    bytes += row.size();
  }
}

int stream(const fs::path& file, double gb) {
  auto t0 = Clock::now();
  generate(file, gb);
  const double gen_s = std::chrono::duration<double>(Clock::now() - t0).count();
  const double rss_before = peak_rss_mb();
  t0 = Clock::now();
  mlxt::data::RecordReader reader(file, {});
  size_t rows = 0;
  mlxt::data::Cursor middle;
  std::string middle_content;
  const uint64_t half = fs::file_size(file) / 2;
  while (auto r = reader.next()) {
    ++rows;
    if (middle.row == 0 && reader.cursor().offset > half) {
      middle = reader.cursor();
    } else if (middle.row != 0 && middle_content.empty()) {
      middle_content = r->record.messages[0].content;
    }
  }
  const double s = std::chrono::duration<double>(Clock::now() - t0).count();
  // Resume: a fresh reader seeks to the cursor instead of replaying.
  auto t1 = Clock::now();
  mlxt::data::RecordReader resumed(file, {});
  resumed.seek(middle);
  auto r = resumed.next();
  const double seek_ms =
      std::chrono::duration<double>(Clock::now() - t1).count() * 1e3;
  const bool same = r && r->record.messages[0].content == middle_content;
  std::cout << nlohmann::json{{"file_gb", fs::file_size(file) / 1e9},
                              {"generate_seconds", gen_s},
                              {"rows", rows},
                              {"seconds", s},
                              {"rows_per_sec", rows / s},
                              {"mb_per_sec", fs::file_size(file) / 1e6 / s},
                              {"peak_rss_mb_before_read", rss_before},
                              {"peak_rss_mb", peak_rss_mb()},
                              {"resume_row", middle.row},
                              {"resume_ms", seek_ms},
                              {"resume_row_matches", same}}
                   .dump()
            << "\n";
  return same ? 0 : 1;
}

int pipeline(const fs::path& data, const fs::path& tokenizer_dir, int max_len) {
  auto tok = mlxt::tokenizer::Tokenizer::load(tokenizer_dir);
  auto t0 = Clock::now();
  mlxt::data::RecordReader reader(data, {});
  std::vector<mlxt::data::Example> examples;
  size_t tokens = 0;
  while (auto r = reader.next()) {
    auto e = mlxt::data::encode_record(
        r->record, tok, {.max_seq_length = max_len}, reader.file(), r->line);
    bool truncated = false;
    if (mlxt::data::truncate_example(e, max_len, truncated)) {
      tokens += e.tokens.size();
      examples.push_back(std::move(e));
    }
  }
  auto rows = mlxt::data::pack_examples(examples, max_len - 1);
  const double s = std::chrono::duration<double>(Clock::now() - t0).count();
  std::cout << nlohmann::json{{"rows", reader.summary().rows_read},
                              {"examples", examples.size()},
                              {"tokens", tokens},
                              {"packed_rows", rows.size()},
                              {"seconds", s},
                              {"rows_per_sec", reader.summary().rows_read / s}}
                   .dump()
            << "\n";
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"data_bench: data pipeline throughput and memory"};
  app.require_subcommand(1);
  double gb = 2.0;
  std::string file = "/tmp/mlxt-data-bench.jsonl";
  auto* s = app.add_subcommand("stream", "Stream a generated multi-GB JSONL");
  s->add_option("--gb", gb);
  s->add_option("--file", file);
  std::string data, tokenizer_dir;
  int max_len = 2048;
  auto* p = app.add_subcommand("pipeline", "read+validate+tokenize+pack");
  p->add_option("--data", data)->required();
  p->add_option("--tokenizer", tokenizer_dir)->required();
  p->add_option("--max-seq-length", max_len);
  try {
    app.parse(argc, argv);
    if (s->parsed()) {
      return stream(file, gb);
    }
    return pipeline(data, tokenizer_dir, max_len);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const mlxt::Error& e) {
    std::cerr << "data_bench: " << e.what() << "\n";
    return 1;
  }
}

// Every dataset under ../shared/fixtures/datasets: detected as the right
// format, every row valid, and converted (to messages, or the kind's own
// format) with the row counts kept, as JSON Lines and as Parquet (the
// Parquet copy reads back as the same records). Skips when the fixtures are
// absent.
#include <gtest/gtest.h>

#include "mlxt/data/convert.h"
#include "mlxt/data/dataset.h"
#include "support/test_support.h"

namespace {

namespace fs = std::filesystem;
using mlxt::data::Format;

fs::path fixtures() {
  return mlxt::testing::source_dir() / ".." / "shared" / "fixtures" /
         "datasets";
}

// Everything a Record holds, comparable.
nlohmann::json record_json(const mlxt::data::Record& r) {
  auto list = [](const std::vector<mlxt::data::Message>& ms) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& m : ms) {
      nlohmann::json calls = nlohmann::json::array();
      for (const auto& c : m.tool_calls) {
        calls.push_back({c.name, c.arguments});
      }
      out.push_back({m.role, m.content, calls});
    }
    return out;
  };
  return {int(r.kind),
          r.text,
          list(r.messages),
          r.tools,
          list(r.chosen),
          list(r.rejected)};
}

std::vector<nlohmann::json> records_of(const fs::path& file) {
  mlxt::data::RecordReader reader(file, {});
  std::vector<nlohmann::json> out;
  while (auto r = reader.next()) {
    out.push_back(record_json(r->record));
  }
  return out;
}

struct Case {
  const char* file;
  Format format;
  size_t rows;
  Format convert_to;
};

class DataFixture : public ::testing::TestWithParam<Case> {};

TEST_P(DataFixture, DetectsValidatesAndConverts) {
  const Case c = GetParam();
  const fs::path file = fixtures() / c.file;
  if (!fs::exists(file)) {
    GTEST_SKIP() << "fixture absent: " << file;
  }
  mlxt::data::RecordReader reader(file, {});
  size_t kept = 0;
  while (reader.next()) {
    ++kept;
  }
  EXPECT_EQ(reader.detection().format, c.format) << reader.detection().reason;
  EXPECT_EQ(kept, c.rows);
  EXPECT_EQ(reader.summary().rows_read, c.rows);

  mlxt::testing::TempDir dir;
  auto s = mlxt::data::convert_file(file, dir / "out.jsonl", c.convert_to);
  EXPECT_EQ(s.written, c.rows);
  // The converted file reads back as the target format, every row intact.
  mlxt::data::RecordReader back(dir / "out.jsonl", {});
  size_t again = 0;
  while (back.next()) {
    ++again;
  }
  EXPECT_EQ(back.detection().format, c.convert_to);
  EXPECT_EQ(again, c.rows);

  try {
    mlxt::data::convert_file(file, dir / "out.parquet", c.convert_to);
  } catch (const mlxt::Error& e) {
    ASSERT_EQ(e.code(), mlxt::ErrorCode::unsupported) << e.what();
    GTEST_SKIP() << e.what(); // a build without Arrow
  }
  const auto expected = records_of(dir / "out.jsonl");
  const auto parquet = records_of(dir / "out.parquet");
  ASSERT_EQ(parquet.size(), c.rows);
  for (size_t i = 0; i < c.rows; ++i) {
    ASSERT_EQ(parquet[i], expected[i]) << "row " << i + 1;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Datasets,
    DataFixture,
    ::testing::Values(
        Case{"alpaca-cleaned-ext/gsm_8k_train.json",
             Format::alpaca,
             7473,
             Format::messages},
        Case{"alpaca-csv-sample/alpaca_2600_sample.csv",
             Format::alpaca,
             2600,
             Format::sharegpt},
        Case{"anthropic-cookbook/json_mode_dataset.jsonl",
             Format::messages,
             500,
             Format::alpaca},
        Case{"codealpaca/code_alpaca_2k.json",
             Format::alpaca,
             2017,
             Format::completions},
        Case{"fastchat/dummy_conversation.json",
             Format::sharegpt,
             500,
             Format::messages},
        Case{"llama-factory-demo/alpaca_en_demo.json",
             Format::alpaca,
             999,
             Format::messages},
        Case{"llama-factory-demo/c4_demo.jsonl",
             Format::text,
             300,
             Format::text},
        Case{"llama-factory-demo/dpo_en_demo.json",
             Format::preference,
             300,
             Format::preference},
        Case{"llama-factory-demo/glaive_toolcall_en_demo.json",
             Format::sharegpt,
             300,
             Format::messages},
        Case{"llama-factory-demo/identity.json",
             Format::alpaca,
             91,
             Format::sharegpt},
        Case{"llama-factory-demo/kto_en_demo.json",
             Format::messages,
             300,
             Format::sharegpt},
        Case{
            "llama-factory-demo/wiki_demo.txt", Format::text, 30, Format::text},
        Case{"llms-from-scratch/instruction-data.json",
             Format::alpaca,
             1100,
             Format::messages},
        Case{"llms-from-scratch/instruction-data-with-preference.json",
             Format::preference,
             1100,
             Format::preference},
        Case{"mlx-examples-lora-wikisql/train.jsonl",
             Format::text,
             1000,
             Format::text},
        Case{"mlx-examples-lora-wikisql/valid.jsonl",
             Format::text,
             100,
             Format::text},
        Case{"mlx-examples-lora-wikisql/test.jsonl",
             Format::text,
             100,
             Format::text},
        Case{"mlx-examples-wwdc25-completions/train.jsonl",
             Format::completions,
             1800,
             Format::messages},
        Case{"mlx-examples-wwdc25-completions/valid.jsonl",
             Format::completions,
             144,
             Format::alpaca},
        Case{"stanford-alpaca/prompt.txt", Format::text, 12, Format::text}));

TEST(DataFixtures, SplitFoldersAreFound) {
  const fs::path dir = fixtures() / "mlx-examples-lora-wikisql";
  if (!fs::exists(dir)) {
    GTEST_SKIP() << "fixture absent: " << dir;
  }
  auto s = mlxt::data::find_splits(dir);
  EXPECT_EQ(s.train.filename(), "train.jsonl");
  ASSERT_TRUE(s.valid && s.test);
  EXPECT_EQ(s.test->filename(), "test.jsonl");
}

// Files that are not training rows get an error that says what was found.
TEST(DataFixtures, NonTrainingFilesAreNamed) {
  const fs::path dir = fixtures();
  if (!fs::exists(dir / "fastchat")) {
    GTEST_SKIP() << "fixtures absent: " << dir;
  }
  EXPECT_MLXT_ERROR(
      mlxt::data::RecordReader(dir / "fastchat/mt_bench_question.jsonl", {}),
      invalid_data,
      "the rows have keys {category, question_id, reference, turns}");
  EXPECT_MLXT_ERROR(
      mlxt::data::RecordReader(dir / "stanford-alpaca/seed_tasks.jsonl", {}),
      invalid_data,
      "cannot detect the format");
}

} // namespace

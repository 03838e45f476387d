// Row sources: JSON Lines, JSON arrays, CSV, text and gzip files, their
// locations and cursors, and the malformed-input corpus with the error each
// file gets.
#include <zlib.h>

#include <gtest/gtest.h>

#include "mlxt/data/convert.h"
#include "mlxt/data/dataset.h"
#include "mlxt/data/row_source.h"
#include "support/test_support.h"

namespace {

using mlxt::data::Cursor;
using mlxt::data::DataOptions;
using mlxt::data::RecordReader;
using mlxt::data::SourceRow;
using mlxt::testing::bad_input;
using mlxt::testing::TempDir;
using mlxt::testing::write_file;
namespace fs = std::filesystem;

std::vector<SourceRow> read_all(const fs::path& file) {
  auto source = mlxt::data::open_row_source(file);
  std::vector<SourceRow> rows;
  while (auto row = source->next()) {
    rows.push_back(std::move(*row));
  }
  return rows;
}

// Reads every record of `file`, returning the reader's first error.
void read_records(const fs::path& file, DataOptions options = {}) {
  RecordReader reader(file, options);
  while (reader.next()) {
  }
}

void write_gzip(const fs::path& file, const std::string& text) {
  gzFile gz = gzopen(file.c_str(), "wb");
  ASSERT_NE(gz, nullptr);
  ASSERT_EQ(gzwrite(gz, text.data(), unsigned(text.size())), int(text.size()));
  gzclose(gz);
}

TEST(DataReaders, JsonlRowsKnowTheirLines) {
  TempDir dir;
  write_file(dir / "a.jsonl", "{\"text\": \"one\"}\n\n{\"text\": \"two\"}\r\n");
  auto rows = read_all(dir / "a.jsonl");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1].value["text"], "two");
  EXPECT_EQ(rows[1].line, 3);
  EXPECT_EQ(rows[1].row, 2);
}

TEST(DataReaders, JsonArrayRowsKnowTheirLines) {
  TempDir dir;
  write_file(dir / "a.json",
             "[\n  {\"text\": \"a ] , {\"},\n  {\"text\":\n \"b\"}\n]\n");
  auto rows = read_all(dir / "a.json");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].value["text"], "a ] , {");
  EXPECT_EQ(rows[1].line, 3);
  EXPECT_EQ(mlxt::data::file_kind(dir / "a.json"),
            mlxt::data::FileKind::json_array);
  write_file(dir / "lines.json", "{\"text\": \"x\"}\n{\"text\": \"y\"}\n");
  EXPECT_EQ(read_all(dir / "lines.json").size(), 2u);
}

TEST(DataReaders, CsvFollowsRfc4180) {
  TempDir dir;
  write_file(dir / "a.csv",
             "instruction,input,output\r\n"
             "\"Say \"\"hi\"\"\",,\"hi, there\"\r\n"
             "\"two\nlines\",x,y\n"
             "last,row,\"no newline\"");
  auto rows = read_all(dir / "a.csv");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].value["instruction"], "Say \"hi\"");
  EXPECT_EQ(rows[0].value["input"], "");
  EXPECT_EQ(rows[0].value["output"], "hi, there");
  EXPECT_EQ(rows[1].value["instruction"], "two\nlines");
  EXPECT_EQ(rows[1].line, 3);
  EXPECT_EQ(rows[2].line, 5);
  EXPECT_EQ(rows[2].value["output"], "no newline");
}

TEST(DataReaders, TextLinesAreRows) {
  TempDir dir;
  write_file(dir / "a.txt", "first line\n\nsecond\n");
  auto rows = read_all(dir / "a.txt");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1].value["text"], "second");
  EXPECT_EQ(rows[1].line, 3);
}

TEST(DataReaders, GzipFilesReadLikeTheirContent) {
  TempDir dir;
  std::string text;
  for (int i = 0; i < 1000; ++i) {
    text +=
        "{\"prompt\": \"p" + std::to_string(i) + "\", \"completion\": \"c\"}\n";
  }
  write_gzip(dir / "a.jsonl.gz", text);
  auto rows = read_all(dir / "a.jsonl.gz");
  ASSERT_EQ(rows.size(), 1000u);
  EXPECT_EQ(rows[999].value["prompt"], "p999");
  write_gzip(dir / "b.csv.gz", "text\nhello\n");
  EXPECT_EQ(read_all(dir / "b.csv.gz").at(0).value["text"], "hello");
}

// A cursor taken mid-file, given to a fresh reader, continues with the same
// rows, for every line format (and gzip).
TEST(DataReaders, CursorResumesBySeeking) {
  TempDir dir;
  std::string jsonl, csv = "text\n";
  for (int i = 0; i < 50; ++i) {
    jsonl += "{\"text\": \"row " + std::to_string(i) + "\"}\n";
    csv += "\"row\n" + std::to_string(i) + "\"\n";
  }
  write_file(dir / "a.jsonl", jsonl);
  write_gzip(dir / "b.jsonl.gz", jsonl);
  write_file(dir / "c.csv", csv);
  write_file(
      dir / "d.json", "[" + [&] {
        std::string s;
        for (int i = 0; i < 50; ++i) {
          s += (i ? "," : "") + std::string("{\"text\": \"row ") +
               std::to_string(i) + "\"}";
        }
        return s;
      }() + "]");
  for (const char* name : {"a.jsonl", "b.jsonl.gz", "c.csv", "d.json"}) {
    SCOPED_TRACE(name);
    auto first = mlxt::data::open_row_source(dir / name);
    for (int i = 0; i < 17; ++i) {
      ASSERT_TRUE(first->next());
    }
    const Cursor cursor = first->cursor();
    EXPECT_EQ(cursor.row, 17);
    auto expected = first->next();
    auto second = mlxt::data::open_row_source(dir / name);
    second->seek(cursor);
    auto got = second->next();
    ASSERT_TRUE(expected && got);
    EXPECT_EQ(got->value, expected->value);
    EXPECT_EQ(got->row, 18);
    EXPECT_EQ(got->line, expected->line);
  }
}

// Runs a Python script with the pyarrow of .deps/arrow, the file as argv[1].
mlxt::testing::CommandResult run_pyarrow(const std::string& script,
                                         const fs::path& file) {
  const fs::path arrow = mlxt::testing::source_dir() / ".deps" / "arrow";
  return mlxt::testing::run_command({"/usr/bin/env",
                                     "PYTHONPATH=" + arrow.string(),
                                     "python3",
                                     "-c",
                                     script,
                                     file.string()});
}

// Parquet through Arrow: a file written by pyarrow (from .deps/arrow) reads
// as rows of its columns, nested lists and structs included.
TEST(DataReaders, ParquetRowsFromPyarrow) {
  const fs::path arrow = mlxt::testing::source_dir() / ".deps" / "arrow";
  if (!fs::exists(arrow / "pyarrow")) {
    GTEST_SKIP() << "pyarrow not installed in " << arrow;
  }
  TempDir dir;
  const fs::path file = dir / "a.parquet";
  auto r = run_pyarrow(
      "import pyarrow as pa, pyarrow.parquet as pq, sys\n"
      "m = [[{'role': 'user', 'content': 'q%d' % i},"
      " {'role': 'assistant', 'content': 'a'}] for i in range(300)]\n"
      "pq.write_table(pa.table({'messages': m, 'n': list(range(300))}),"
      " sys.argv[1], row_group_size=100)\n",
      file);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::unique_ptr<mlxt::data::RowSource> source;
  try {
    source = mlxt::data::open_row_source(file);
  } catch (const mlxt::Error& e) {
    ASSERT_EQ(e.code(), mlxt::ErrorCode::unsupported) << e.what();
    GTEST_SKIP() << e.what();
  }
  std::vector<SourceRow> rows;
  while (auto row = source->next()) {
    rows.push_back(std::move(*row));
  }
  ASSERT_EQ(rows.size(), 300u);
  EXPECT_EQ(rows[250].value["messages"][0]["content"], "q250");
  EXPECT_EQ(rows[250].value["n"], 250);
  source->seek(Cursor{0, 150, 0}); // skips a whole row group, then rows
  EXPECT_EQ(source->next()->value["n"], 150);
  RecordReader reader(file, {});
  EXPECT_EQ(reader.detection().format, mlxt::data::Format::messages);
}

// Parquet output (mlxt data convert --to parquet) is a file pyarrow reads,
// and our reader gives back the rows that were written.
TEST(DataReaders, ParquetOutputReadsInPyarrowAndBack) {
  const fs::path arrow = mlxt::testing::source_dir() / ".deps" / "arrow";
  TempDir dir;
  std::string rows;
  for (int i = 0; i < 50; ++i) {
    rows += "{\"instruction\": \"q" + std::to_string(i) +
            "\", \"input\": \"\", \"output\": \"a\"}\n";
  }
  write_file(dir / "in.jsonl", rows);
  try {
    mlxt::data::convert_file(
        dir / "in.jsonl", dir / "out.parquet", mlxt::data::Format::messages);
  } catch (const mlxt::Error& e) {
    ASSERT_EQ(e.code(), mlxt::ErrorCode::unsupported) << e.what();
    GTEST_SKIP() << e.what();
  }
  const auto back = read_all(dir / "out.parquet");
  ASSERT_EQ(back.size(), 50u);
  EXPECT_EQ(back[7].value["messages"][0]["content"], "q7");
  EXPECT_EQ(back[7].value["messages"][1]["role"], "assistant");
  if (!fs::exists(arrow / "pyarrow")) {
    GTEST_SKIP() << "pyarrow not installed in " << arrow;
  }
  auto r = run_pyarrow(
      "import pyarrow.parquet as pq, sys\n"
      "t = pq.read_table(sys.argv[1])\n"
      "print(t.num_rows, t.column('messages')[7].as_py()[0]['content'])\n",
      dir / "out.parquet");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output, "50 q7\n");
}

// The malformed-input corpus (tests/fixtures/bad/data): each file gets the
// error that names it.
TEST(DataMalformed, BadJsonNamesTheLine) {
  EXPECT_MLXT_ERROR(read_records(bad_input("data/invalid_json_line.jsonl")),
                    invalid_data,
                    "invalid_json_line.jsonl:3: invalid JSON");
}

// A number past double's range is a row error, not a crash (found by the
// data_jsonl fuzz target).
TEST(DataMalformed, NumberOverflowIsAnInvalidRow) {
  EXPECT_MLXT_ERROR(read_records(bad_input("data/number_overflow.jsonl")),
                    invalid_data,
                    "number_overflow.jsonl:2: invalid JSON");
}

TEST(DataMalformed, NonUtf8BytesAreNamed) {
  EXPECT_MLXT_ERROR(read_records(bad_input("data/non_utf8_byte.jsonl")),
                    invalid_data,
                    "non_utf8_byte.jsonl:2: ill-formed UTF-8 at byte 14");
}

TEST(DataMalformed, RaggedCsvRowIsNamed) {
  EXPECT_MLXT_ERROR(
      read_records(bad_input("data/ragged_row.csv")),
      invalid_data,
      "ragged_row.csv:3: ragged row: 3 fields, but the header has 2");
}

TEST(DataMalformed, UnclosedQuoteNamesWhereItOpened) {
  EXPECT_MLXT_ERROR(read_records(bad_input("data/unclosed_quote.csv")),
                    invalid_data,
                    "unclosed_quote.csv:3: unclosed quote");
}

TEST(DataMalformed, MissingColumnIsNamed) {
  EXPECT_MLXT_ERROR(read_records(bad_input("data/missing_column.jsonl")),
                    invalid_data,
                    "missing_column.jsonl:2: instruction: missing");
}

TEST(DataMalformed, UnknownRoleNamesTheKeyPath) {
  EXPECT_MLXT_ERROR(read_records(bad_input("data/unknown_role.jsonl")),
                    invalid_data,
                    "unknown_role.jsonl:1: messages[3].role: unknown role "
                    "\"bot\"");
}

TEST(DataMalformed, NoAssistantTurnIsNamed) {
  EXPECT_MLXT_ERROR(read_records(bad_input("data/no_assistant_turn.json")),
                    invalid_data,
                    "conversations: no assistant turn");
}

TEST(DataMalformed, EmptyFileIsNamed) {
  for (const char* name :
       {"empty.jsonl", "empty.json", "empty.csv", "empty.txt"}) {
    EXPECT_MLXT_ERROR(read_records(bad_input(std::string("data/") + name)),
                      invalid_data,
                      std::string(name) + ": the file has no rows");
  }
}

TEST(DataMalformed, HugeLineIsRefusedInBoundedMemory) {
  TempDir dir;
  std::string line = "{\"text\": \"" + std::string(100 << 20, 'a') + "\"}\n";
  write_file(dir / "a.jsonl", "{\"text\": \"ok\"}\n" + line);
  line.clear();
  line.shrink_to_fit();
  EXPECT_MLXT_ERROR(read_records(dir / "a.jsonl"),
                    invalid_data,
                    "a.jsonl:2: the line is longer than the limit of 64 MiB");
}

TEST(DataMalformed, TruncatedJsonArrayIsNamed) {
  EXPECT_MLXT_ERROR(
      read_records(bad_input("data/truncated_array.json")),
      invalid_data,
      "truncated_array.json:3: invalid JSON array: the array is not closed");
}

TEST(DataMalformed, SkipInvalidCountsByReason) {
  const fs::path file = bad_input("data/three_invalid_rows.jsonl");
  DataOptions options;
  options.skip_invalid = true;
  RecordReader reader(file, options);
  int kept = 0;
  while (reader.next()) {
    ++kept;
  }
  const auto& s = reader.summary();
  EXPECT_EQ(kept, 2);
  EXPECT_EQ(s.rows_read, 5u);
  EXPECT_EQ(s.invalid, 3u);
  EXPECT_EQ(s.invalid_by_reason.at("invalid JSON"), 1u);
  EXPECT_EQ(s.invalid_by_reason.at("completion: missing"), 1u);
  EXPECT_EQ(s.invalid_by_reason.at("prompt: missing"), 1u);
  ASSERT_EQ(s.problems.size(), 3u);
  EXPECT_EQ(s.problems[0].to_string(),
            file.string() + ":2: completion: missing");
}

TEST(DataSplits, FolderSplitsByName) {
  TempDir dir;
  write_file(dir / "train.csv", "text\na\n");
  write_file(dir / "validation.jsonl.gz", "");
  write_file(dir / "test.txt", "b\n");
  write_file(dir / "notes.md", "ignored\n");
  auto s = mlxt::data::find_splits(dir.path());
  EXPECT_EQ(s.train.filename(), "train.csv");
  ASSERT_TRUE(s.valid && s.test);
  EXPECT_EQ(s.valid->filename(), "validation.jsonl.gz");
  write_file(dir / "train.jsonl", "");
  EXPECT_MLXT_ERROR(mlxt::data::find_splits(dir.path()),
                    invalid_data,
                    "two files for the train split");
}

} // namespace

#include "mlxt/data/row_source.h"

#include "mlxt/core/ascii.h"
#include "mlxt/core/error.h"
#include "mlxt/data/readers.h"

namespace mlxt::data {

namespace fs = std::filesystem;

const char* file_kind_name(FileKind kind) {
  switch (kind) {
  case FileKind::jsonl:
    return "jsonl";
  case FileKind::json_array:
    return "json";
  case FileKind::csv:
    return "csv";
  case FileKind::text:
    return "text";
  case FileKind::parquet:
    return "parquet";
  }
  return "jsonl";
}

namespace {

// The extension that says the format: ".jsonl" for "a.jsonl.gz".
std::string format_extension(const fs::path& file) {
  fs::path p = file;
  if (p.extension() == ".gz") {
    p = p.stem();
  }
  return ascii_lower(p.extension().string());
}

// ".json" files are either one array or JSON Lines; the first byte says.
FileKind sniff_json(const fs::path& file) {
  auto stream = ByteStream::open(file);
  char buf[4096];
  while (size_t got = stream->read(buf, sizeof buf)) {
    for (size_t i = 0; i < got; ++i) {
      const char c = buf[i];
      if (c == '[') {
        return FileKind::json_array;
      }
      if (c == '{') {
        return FileKind::jsonl;
      }
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '\xEF' &&
          c != '\xBB' && c != '\xBF') {
        return FileKind::json_array; // let the array reader name the problem
      }
    }
  }
  return FileKind::json_array;
}

} // namespace

FileKind file_kind(const fs::path& file) {
  const std::string ext = format_extension(file);
  if (ext == ".jsonl" || ext == ".ndjson") {
    return FileKind::jsonl;
  }
  if (ext == ".json") {
    return sniff_json(file);
  }
  if (ext == ".csv") {
    return FileKind::csv;
  }
  if (ext == ".txt" || ext == ".text") {
    return FileKind::text;
  }
  if (ext == ".parquet") {
    return FileKind::parquet;
  }
  fail(ErrorCode::unsupported,
       "unknown data file extension \"" + ext +
           "\" (supported: .jsonl, .ndjson, .json, .csv, .txt, .parquet, each "
           "but .parquet also as .gz)",
       {.file = file.string()});
}

std::unique_ptr<RowSource> open_row_source(const fs::path& file,
                                           const ReadOptions& options) {
  const FileKind kind = file_kind(file);
  if (kind == FileKind::parquet) {
    return detail::open_parquet(file.string());
  }
  auto stream = ByteStream::open(file);
  switch (kind) {
  case FileKind::jsonl:
    return detail::open_jsonl(std::move(stream), options);
  case FileKind::json_array:
    return detail::open_json_array(std::move(stream), options);
  case FileKind::csv:
    return detail::open_csv(std::move(stream), options);
  default:
    return detail::open_text(std::move(stream), options);
  }
}

} // namespace mlxt::data

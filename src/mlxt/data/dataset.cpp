#include "mlxt/data/dataset.h"

#include "mlxt/core/error.h"

namespace mlxt::data {

namespace fs = std::filesystem;

std::string ProblemAt::to_string() const {
  std::string out = file;
  out += line > 0 ? ":" + std::to_string(line) : " row " + std::to_string(row);
  out += ": ";
  if (!problem.key.empty()) {
    out += problem.key + ": ";
  }
  return out + problem.reason;
}

namespace {

// The kind of a problem, for counting: indices and quoted values removed
// ("messages[3].role: unknown role \"bot\" ..." -> "messages[].role: unknown
// role").
std::string reason_kind(const RowProblem& p) {
  std::string key;
  bool in_index = false;
  for (char c : p.key) {
    if (c == '[') {
      in_index = true;
      key += "[]";
    } else if (c == ']') {
      in_index = false;
    } else if (!in_index) {
      key += c;
    }
  }
  std::string reason = p.reason.substr(0, p.reason.find_first_of(":\"(;"));
  while (!reason.empty() && reason.back() == ' ') {
    reason.pop_back();
  }
  return key.empty() ? reason : key + ": " + reason;
}

} // namespace

RecordReader::RecordReader(const fs::path& file, const DataOptions& options)
    : source_(open_row_source(file, options.read)),
      options_(options), detection_{Format::text, ""} {
  if (options.format) {
    detection_ = {*options.format, "given"};
    return;
  }
  std::vector<nlohmann::json> sample;
  while (sample.size() < options.detect_rows) {
    auto row = source_->next();
    if (!row) {
      break;
    }
    if (row->problem.empty()) {
      apply_column_map(row->value, options.columns);
      sample.push_back(std::move(row->value));
    }
  }
  if (sample.empty() && source_->cursor().row == 0) {
    fail(ErrorCode::invalid_data, "the file has no rows", {.file = file});
  }
  detection_ = detect_format(sample, source_->file());
  source_->seek(Cursor{});
}

void RecordReader::record_problem(const ProblemAt& p) {
  if (!options_.skip_invalid) {
    fail(ErrorCode::invalid_data,
         p.problem.reason + " (use --skip-invalid to skip invalid rows)",
         {.file = p.file, .line = p.line, .key = p.problem.key});
  }
  ++summary_.invalid;
  ++summary_.invalid_by_reason[reason_kind(p.problem)];
  if (summary_.problems.size() < ReadSummary::kMaxProblems) {
    summary_.problems.push_back(p);
  }
}

std::optional<LocatedRecord> RecordReader::next() {
  while (auto row = source_->next()) {
    ++summary_.rows_read;
    if (!row->problem.empty()) {
      record_problem(
          {source_->file(), row->row, row->line, {"", row->problem}});
      continue;
    }
    apply_column_map(row->value, options_.columns);
    ParseResult parsed = parse_row(row->value, detection_.format);
    if (auto* problem = std::get_if<RowProblem>(&parsed)) {
      record_problem({source_->file(), row->row, row->line, *problem});
      continue;
    }
    ++summary_.kept;
    return LocatedRecord{
        std::move(std::get<Record>(parsed)), row->row, row->line};
  }
  return std::nullopt;
}

namespace {

bool is_data_file(const fs::path& p) {
  try {
    (void)file_kind(p);
    return fs::is_regular_file(p);
  } catch (const Error&) {
    return false;
  }
}

// The split a file in a data folder belongs to, by its name up to the first
// dot ("train.jsonl.gz" -> "train").
std::string split_of(const fs::path& p) {
  const std::string name = p.filename().string();
  const std::string stem = name.substr(0, name.find('.'));
  if (stem == "validation" || stem == "val") {
    return "valid";
  }
  return stem;
}

} // namespace

std::vector<fs::path> SplitFiles::files() const {
  std::vector<fs::path> all = {train};
  for (const auto& f : {valid, test}) {
    if (f) {
      all.push_back(*f);
    }
  }
  return all;
}

SplitFiles find_splits(const fs::path& data) {
  if (fs::is_regular_file(data)) {
    return {data, std::nullopt, std::nullopt};
  }
  if (!fs::is_directory(data)) {
    fail(ErrorCode::not_found,
         "data path does not exist",
         {.file = data.string()});
  }
  std::map<std::string, fs::path> found;
  std::vector<fs::path> entries(fs::directory_iterator(data), {});
  std::sort(entries.begin(), entries.end());
  for (const fs::path& p : entries) {
    const std::string split = split_of(p);
    if ((split != "train" && split != "valid" && split != "test") ||
        !is_data_file(p)) {
      continue;
    }
    auto [it, inserted] = found.emplace(split, p);
    if (!inserted) {
      fail(ErrorCode::invalid_data,
           "two files for the " + split + " split: " +
               it->second.filename().string() + " and " + p.filename().string(),
           {.file = data.string()});
    }
  }
  if (!found.contains("train")) {
    fail(ErrorCode::not_found,
         "the data folder has no train split (train.jsonl, train.json, "
         "train.csv, train.txt or train.parquet)",
         {.file = data.string()});
  }
  SplitFiles splits{found["train"], std::nullopt, std::nullopt};
  if (found.contains("valid")) {
    splits.valid = found["valid"];
  }
  if (found.contains("test")) {
    splits.test = found["test"];
  }
  return splits;
}

} // namespace mlxt::data

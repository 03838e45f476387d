// /v1/datasets/validate, /convert and /stats over the data layer: the same
// readers, validation, conversion and statistics as `mlxt data`. Row
// problems come back as values (file, row, line, key, reason).
#include "mlxt/core/error.h"
#include "mlxt/data/convert.h"
#include "mlxt/data/sft_data.h"
#include "mlxt/data/stats.h"
#include "mlxt/server/body.h"
#include "mlxt/server/paths.h"
#include "mlxt/server/routes.h"

namespace mlxt::server {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Keys every dataset route reads the same way.
const std::vector<std::string> kReadKeys = {"path", "format", "columns"};
const std::vector<std::string> kEncodeKeys = {
    "model", "max_seq_length", "mask_prompt", "all_assistant_turns"};

std::vector<std::string>
keys(std::initializer_list<std::vector<std::string>> groups) {
  std::vector<std::string> all;
  for (const auto& g : groups) {
    all.insert(all.end(), g.begin(), g.end());
  }
  return all;
}

// "format" and "columns" ({canonical key: the dataset's column}).
data::DataOptions data_options(BodyReader& body) {
  data::DataOptions o;
  if (const std::string f = body.string("format", false); !f.empty()) {
    o.format = data::format_from_name(f);
    if (!o.format) {
      fail(ErrorCode::invalid_config,
           "format: unknown format \"" + f +
               "\" (allowed: alpaca, sharegpt, messages, completions, text, "
               "preference)",
           {.key = "format"});
    }
  }
  for (const auto& [key, column] : body.object("columns").items()) {
    if (!column.is_string()) {
      fail(ErrorCode::invalid_config,
           "columns." + key + ": expected a column name (a string)",
           {.key = "columns." + key});
    }
    o.columns[key] = column;
  }
  return o;
}

data::EncodeOptions encode_options(BodyReader& body) {
  return {.mask_prompt = body.boolean("mask_prompt", false),
          .all_assistant_turns = body.boolean("all_assistant_turns", false),
          .max_seq_length = static_cast<int>(
              body.integer("max_seq_length", 2048, 2, 1 << 24))};
}

json read_summary_json(const data::ReadSummary& s) {
  json problems = json::array();
  for (const data::ProblemAt& p : s.problems) {
    problems.push_back({{"file", p.file},
                        {"row", p.row},
                        {"line", p.line},
                        {"key", p.problem.key},
                        {"reason", p.problem.reason}});
  }
  return {{"rows_read", s.rows_read},
          {"kept", s.kept},
          {"invalid", s.invalid},
          {"invalid_by_reason", s.invalid_by_reason},
          {"problems", problems},
          {"problems_truncated", s.invalid > s.problems.size()}};
}

json encode_counts(const data::EncodedSplit& s) {
  return {{"examples", s.examples.size()},
          {"truncated", s.summary.truncated},
          {"dropped_no_targets", s.summary.dropped_no_targets}};
}

// Every row of every split is read; invalid rows are reported, not fatal.
Response validate(AppContext& app, const Request& r) {
  BodyReader body(r.json(), keys({kReadKeys, kEncodeKeys}));
  const std::string path = body.string("path", true);
  const std::string model = body.string("model", false);
  data::DataOptions opts = data_options(body);
  const data::EncodeOptions encode = encode_options(body);
  body.finish();
  opts.skip_invalid = true;
  const fs::path data = confine_path(path, app.roots, "path");
  std::optional<tokenizer::Tokenizer> tok;
  if (!model.empty()) {
    tok = tokenizer::Tokenizer::load(confine_path(model, app.roots, "model"));
  }
  json splits = json::array();
  bool valid = true;
  for (const fs::path& file : data::find_splits(data).files()) {
    json split = {{"file", file.string()}};
    if (tok) {
      const data::EncodedSplit s =
          data::load_sft_split(file, *tok, encode, opts);
      split["format"] = data::format_name(s.format);
      split["read"] = read_summary_json(s.read);
      split["encoded"] = encode_counts(s);
      valid = valid && s.read.invalid == 0;
    } else {
      data::RecordReader reader(file, opts);
      while (reader.next()) {
      }
      split["format"] = data::format_name(reader.detection().format);
      split["detection_reason"] = reader.detection().reason;
      split["read"] = read_summary_json(reader.summary());
      valid = valid && reader.summary().invalid == 0;
    }
    splits.push_back(std::move(split));
  }
  return Response::json({{"valid", valid}, {"splits", splits}});
}

Response convert(AppContext& app, const Request& r) {
  BodyReader body(r.json(), keys({kReadKeys, {"to", "out", "skip_invalid"}}));
  const std::string path = body.string("path", true);
  const std::string to_name = body.string("to", true);
  const std::string out_name = body.string("out", true);
  data::DataOptions opts = data_options(body);
  opts.skip_invalid = body.boolean("skip_invalid", false);
  body.finish();
  const auto to = data::format_from_name(to_name);
  if (!to) {
    fail(ErrorCode::invalid_config,
         "to: unknown format \"" + to_name + "\"",
         {.key = "to"});
  }
  const fs::path in = confine_path(path, app.roots, "path");
  const fs::path out =
      confine_output_path(out_name, app.roots, app.server_owned, "out");
  if (!fs::is_directory(out.parent_path())) {
    fail(ErrorCode::not_found,
         "out: the folder of the output file does not exist",
         {.file = out.parent_path().string(), .key = "out"});
  }
  const data::ConvertSummary s = data::convert_file(in, out, *to, opts);
  return Response::json({{"path", in.string()},
                         {"out", out.string()},
                         {"from", data::format_name(s.from)},
                         {"to", data::format_name(s.to)},
                         {"read", read_summary_json(s.read)},
                         {"written", s.written}});
}

Response stats(AppContext& app, const Request& r) {
  BodyReader body(r.json(), keys({kReadKeys, kEncodeKeys, {"skip_invalid"}}));
  const std::string path = body.string("path", true);
  const std::string model = body.string("model", true);
  data::DataOptions opts = data_options(body);
  opts.skip_invalid = body.boolean("skip_invalid", false);
  const data::EncodeOptions encode = encode_options(body);
  body.finish();
  const fs::path data = confine_path(path, app.roots, "path");
  const tokenizer::Tokenizer tok =
      tokenizer::Tokenizer::load(confine_path(model, app.roots, "model"));
  json splits = json::array();
  for (const fs::path& file : data::find_splits(data).files()) {
    const data::EncodedSplit s = data::load_sft_split(file, tok, encode, opts);
    const data::LengthStats st = data::length_stats(s.examples);
    json split = {{"file", file.string()},
                  {"format", data::format_name(s.format)},
                  {"read", read_summary_json(s.read)},
                  {"examples", st.examples},
                  {"tokens", st.tokens},
                  {"target_tokens", st.target_tokens},
                  {"length",
                   {{"min", st.min},
                    {"median", st.median},
                    {"p95", st.p95},
                    {"max", st.max}}}};
    split.update(encode_counts(s));
    splits.push_back(std::move(split));
  }
  return Response::json({{"splits", splits}});
}

} // namespace

std::vector<Route> dataset_routes(AppContext& app) {
  auto bind = [&app](Response (*f)(AppContext&, const Request&)) {
    return [&app, f](const Request& r) { return f(app, r); };
  };
  return {
      {"POST",
       "/v1/datasets/validate",
       "Check every row of every split (body: path, format, columns; with "
       "model, also encode); problems as {file, row, line, key, reason}",
       bind(validate)},
      {"POST",
       "/v1/datasets/convert",
       "Rewrite a dataset file in another format as JSON Lines (body: path, "
       "to, out)",
       bind(convert)},
      {"POST",
       "/v1/datasets/stats",
       "Token counts and length distribution of each split after encoding "
       "(body: path, model)",
       bind(stats)},
  };
}

} // namespace mlxt::server

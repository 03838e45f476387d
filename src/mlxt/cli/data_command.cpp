// mlxt data inspect | validate | convert | stats | encode
#include <iostream>

#include "mlxt/cli/commands.h"
#include "mlxt/core/error.h"
#include "mlxt/data/convert.h"
#include "mlxt/data/encoded_cache.h"
#include "mlxt/data/sft_data.h"
#include "mlxt/data/stats.h"

namespace mlxt::cli {

namespace {

namespace fs = std::filesystem;

struct ReadFlags {
  std::string format;
  std::vector<std::string> columns;
  bool skip_invalid = false;
};

void add_read_flags(CLI::App* cmd, ReadFlags& f, bool with_skip) {
  cmd->add_option("--format",
                  f.format,
                  "alpaca | sharegpt | messages | completions | text | "
                  "preference (default: detected)");
  cmd->add_option("--columns",
                  f.columns,
                  "Column overrides, key=column (e.g. instruction=question)");
  if (with_skip) {
    cmd->add_flag("--skip_invalid",
                  f.skip_invalid,
                  "Count and report invalid rows instead of failing");
  }
}

data::DataOptions data_options(const ReadFlags& f) {
  data::DataOptions o;
  if (!f.format.empty()) {
    o.format = data::format_from_name(f.format);
    if (!o.format) {
      fail(ErrorCode::invalid_config,
           "unknown format \"" + f.format +
               "\" (allowed: alpaca, sharegpt, messages, completions, text, "
               "preference)",
           {.key = "--format"});
    }
  }
  for (const std::string& c : f.columns) {
    data::parse_column_map(c, o.columns);
  }
  o.skip_invalid = f.skip_invalid;
  return o;
}

void print_read_summary(const data::ReadSummary& s, std::ostream& out) {
  out << "  rows read: " << s.rows_read << ", kept: " << s.kept
      << ", invalid: " << s.invalid << "\n";
  for (const auto& [reason, count] : s.invalid_by_reason) {
    out << "    invalid (" << reason << "): " << count << "\n";
  }
  for (const data::ProblemAt& p : s.problems) {
    out << "    " << p.to_string() << "\n";
  }
  if (s.invalid > s.problems.size()) {
    out << "    ... and " << s.invalid - s.problems.size() << " more\n";
  }
}

nlohmann::json record_json(const data::Record& r) {
  auto as_rows = [](const std::vector<data::Message>& ms) {
    nlohmann::json list = nlohmann::json::array();
    for (const data::Message& m : ms) {
      nlohmann::json j = {{"role", m.role}, {"content", m.content}};
      for (const data::ToolCall& c : m.tool_calls) {
        j["tool_calls"].push_back(
            {{"name", c.name}, {"arguments", c.arguments}});
      }
      list.push_back(std::move(j));
    }
    return list;
  };
  if (r.kind == data::Record::Kind::text) {
    return {{"text", r.text}};
  }
  nlohmann::json j = {{"messages", as_rows(r.messages)}};
  if (r.kind == data::Record::Kind::preference) {
    j["chosen"] = as_rows(r.chosen);
    j["rejected"] = as_rows(r.rejected);
  }
  if (!r.tools.is_null()) {
    j["tools"] = r.tools;
  }
  return j;
}

void add_inspect(CLI::App& data_app) {
  struct Options {
    std::string file;
    ReadFlags read;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = data_app.add_subcommand(
      "inspect", "Detect a file's format and show its counts and a sample");
  cmd->add_option("file", o->file, "Data file or split folder")->required();
  add_read_flags(cmd, o->read, false);
  cmd->callback([o] {
    for (const fs::path& file : data::find_splits(o->file).files()) {
      data::DataOptions opts = data_options(o->read);
      opts.skip_invalid = true; // inspecting reports problems, never stops
      data::RecordReader reader(file, opts);
      std::optional<data::LocatedRecord> sample;
      while (auto r = reader.next()) {
        if (!sample) {
          sample = std::move(r);
        }
      }
      std::cout << file.string()
                << "\n  file: " << data::file_kind_name(reader.kind())
                << "\n  format: "
                << data::format_name(reader.detection().format)
                << "\n  reason: " << reader.detection().reason << "\n";
      print_read_summary(reader.summary(), std::cout);
      if (sample) {
        std::cout << "  sample (row " << sample->row
                  << "): " << record_json(sample->record).dump() << "\n";
      }
    }
  });
}

void add_validate(CLI::App& data_app) {
  struct Options {
    std::string path, model;
    ReadFlags read;
    int max_seq_length = 2048;
    bool mask_prompt = false, all_turns = false;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = data_app.add_subcommand(
      "validate",
      "Check every row of every split; with --model, also encode them");
  cmd->add_option("path", o->path, "Data file or split folder")->required();
  add_read_flags(cmd, o->read, true);
  cmd->add_option("--model",
                  o->model,
                  "Model (tokenizer) folder: also count truncated and "
                  "dropped rows");
  cmd->add_option("--max_seq_length", o->max_seq_length)
      ->check(CLI::Range(2, 1 << 24));
  cmd->add_flag("--mask_prompt", o->mask_prompt);
  cmd->add_flag("--all_assistant_turns", o->all_turns);
  cmd->callback([o] {
    const data::DataOptions opts = data_options(o->read);
    std::optional<tokenizer::Tokenizer> tok;
    if (!o->model.empty()) {
      tok = tokenizer::Tokenizer::load(o->model);
    }
    for (const fs::path& file : data::find_splits(o->path).files()) {
      std::cout << file.string() << "\n";
      if (tok) {
        data::EncodedSplit s =
            data::load_sft_split(file,
                                 *tok,
                                 {.mask_prompt = o->mask_prompt,
                                  .all_assistant_turns = o->all_turns,
                                  .max_seq_length = o->max_seq_length},
                                 opts);
        std::cout << "  format: " << data::format_name(s.format) << "\n";
        print_read_summary(s.read, std::cout);
        std::cout << "  examples: " << s.summary.kept
                  << ", truncated: " << s.summary.truncated
                  << ", dropped (no target after truncation): "
                  << s.summary.dropped_no_targets << "\n";
        continue;
      }
      data::RecordReader reader(file, opts);
      while (reader.next()) {
      }
      std::cout << "  format: " << data::format_name(reader.detection().format)
                << "\n";
      print_read_summary(reader.summary(), std::cout);
    }
  });
}

void add_convert(CLI::App& data_app) {
  struct Options {
    std::string file, to, out;
    ReadFlags read;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = data_app.add_subcommand(
      "convert",
      "Rewrite a file in another format, as JSON Lines or (--out *.parquet) "
      "Parquet");
  cmd->add_option("file", o->file, "Data file")->required();
  cmd->add_option("--to",
                  o->to,
                  "messages | alpaca | sharegpt | completions | text | "
                  "preference; or jsonl | parquet: the same format in that "
                  "file kind")
      ->required();
  cmd->add_option("--out", o->out, "Output .jsonl or .parquet file")
      ->required();
  add_read_flags(cmd, o->read, true);
  cmd->callback([o] {
    const bool parquet_out = fs::path(o->out).extension() == ".parquet";
    std::optional<data::Format> to;
    if (o->to == "parquet" || o->to == "jsonl") {
      if ((o->to == "parquet") != parquet_out) {
        fail(ErrorCode::invalid_config,
             "--to " + o->to + " needs an --out file ending in ." + o->to,
             {.key = "--out"});
      }
    } else {
      to = data::format_from_name(o->to);
      if (!to) {
        fail(ErrorCode::invalid_config,
             "unknown format \"" + o->to +
                 "\" (allowed: messages, alpaca, sharegpt, completions, "
                 "text, preference, jsonl, parquet)",
             {.key = "--to"});
      }
    }
    data::ConvertSummary s =
        data::convert_file(o->file, o->out, to, data_options(o->read));
    std::cout << o->file << " (" << data::format_name(s.from) << ") -> "
              << o->out << " (" << data::format_name(s.to) << ", "
              << (parquet_out ? "parquet" : "jsonl") << ")\n";
    print_read_summary(s.read, std::cout);
    std::cout << "  written: " << s.written << "\n";
  });
}

struct EncodeFlags {
  std::string path, model;
  ReadFlags read;
  int max_seq_length = 2048;
  bool mask_prompt = false, all_turns = false;
};

void add_encode_flags(CLI::App* cmd, EncodeFlags& f) {
  cmd->add_option("path", f.path, "Data file or split folder")->required();
  cmd->add_option("--model", f.model, "Model (tokenizer) folder")->required();
  cmd->add_option("--max_seq_length", f.max_seq_length)
      ->check(CLI::Range(2, 1 << 24));
  cmd->add_flag("--mask_prompt", f.mask_prompt);
  cmd->add_flag("--all_assistant_turns", f.all_turns);
  add_read_flags(cmd, f.read, true);
}

data::EncodedSplit encode_split(const EncodeFlags& f,
                                const fs::path& file,
                                const tokenizer::Tokenizer& tok) {
  return data::load_sft_split(file,
                              tok,
                              {.mask_prompt = f.mask_prompt,
                               .all_assistant_turns = f.all_turns,
                               .max_seq_length = f.max_seq_length},
                              data_options(f.read));
}

void add_stats(CLI::App& data_app) {
  auto o = std::make_shared<EncodeFlags>();
  auto* cmd = data_app.add_subcommand(
      "stats", "Token counts and lengths of each split after encoding");
  add_encode_flags(cmd, *o);
  cmd->callback([o] {
    tokenizer::Tokenizer tok = tokenizer::Tokenizer::load(o->model);
    for (const fs::path& file : data::find_splits(o->path).files()) {
      data::EncodedSplit s = encode_split(*o, file, tok);
      const data::LengthStats st = data::length_stats(s.examples);
      std::cout << file.string()
                << "\n  format: " << data::format_name(s.format) << "\n";
      print_read_summary(s.read, std::cout);
      std::cout << "  examples: " << st.examples << ", tokens: " << st.tokens
                << ", target tokens: " << st.target_tokens
                << "\n  length min/median/p95/max: " << st.min << "/"
                << st.median << "/" << st.p95 << "/" << st.max
                << "\n  truncated: " << s.summary.truncated
                << ", dropped (no target after truncation): "
                << s.summary.dropped_no_targets << "\n";
    }
  });
}

void add_encode(CLI::App& data_app) {
  struct Options : EncodeFlags {
    std::string out;
    size_t shard_tokens = size_t(1) << 24;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = data_app.add_subcommand(
      "encode",
      "Write each split's token ids and loss masks as encoded-cache shards "
      "(reused by `mlxt train` with data_cache set to the same folder)");
  add_encode_flags(cmd, *o);
  cmd->add_option("--out", o->out, "Cache folder (one <key>/ per split)")
      ->required();
  cmd->add_option("--shard_tokens", o->shard_tokens, "Tokens per shard")
      ->check(CLI::Range(size_t(1), size_t(1) << 40));
  cmd->callback([o] {
    tokenizer::Tokenizer tok = tokenizer::Tokenizer::load(o->model);
    const data::CacheOptions cache{.root = o->out,
                                   .tokenizer_digest =
                                       data::tokenizer_digest(o->model),
                                   .shard_tokens = o->shard_tokens};
    for (const fs::path& file : data::find_splits(o->path).files()) {
      const data::CachedSplit c =
          data::open_encoded_split(file,
                                   tok,
                                   {.mask_prompt = o->mask_prompt,
                                    .all_assistant_turns = o->all_turns,
                                    .max_seq_length = o->max_seq_length},
                                   data_options(o->read),
                                   cache);
      size_t tokens = 0;
      for (const data::ShardInfo& s : c.shards) {
        tokens += s.tokens;
      }
      std::cout << file.string() << " -> " << c.dir.string() << "\n  "
                << (c.reused ? "reused (unchanged)"
                             : "encoded (" + c.rebuilt_because + ")")
                << "\n  examples: " << c.split.summary.kept
                << ", tokens: " << tokens << ", shards: " << c.shards.size()
                << "\n  truncated: " << c.split.summary.truncated
                << ", dropped (no target after truncation): "
                << c.split.summary.dropped_no_targets << "\n";
      print_read_summary(c.split.read, std::cout);
    }
  });
}

} // namespace

void add_data_command(CLI::App& app) {
  auto* data_app = app.add_subcommand(
      "data", "Inspect, validate, convert and encode datasets");
  data_app->require_subcommand(1);
  add_inspect(*data_app);
  add_validate(*data_app);
  add_convert(*data_app);
  add_stats(*data_app);
  add_encode(*data_app);
}

} // namespace mlxt::cli

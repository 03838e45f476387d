// mlxt score --model RM [--adapter DIR] --data FILE [--out FILE]
//
// Scores every row of a data file with a reward model (train/methods/
// reward_model.h): one JSON line per row, {"index", "score"} for a prompt /
// completion, messages or text row, {"index", "chosen", "rejected"} for a
// preference row. Rows are encoded and batched as reward training encodes
// and batches them, so a pair's scores are the rewards its validation saw.
#include <iostream>

#include "mlxt/cli/commands.h"
#include "mlxt/cli/loaded_model.h"
#include "mlxt/core/atomic_file.h"
#include "mlxt/core/error.h"
#include "mlxt/data/batching.h"
#include "mlxt/data/dataset.h"
#include "mlxt/data/encode.h"
#include "mlxt/data/preference_data.h"
#include "mlxt/models/scalar_head.h"
#include "mlxt/train/methods/reward_batch.h"
#include "mlxt/train/methods/reward_model.h"

namespace mlxt::cli {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct Options {
  std::string model, adapter, data, out;
  int batch_size = 8, max_seq_length = 2048;
};

// The head: the adapter folder's score.safetensors, else the model
// folder's score.weight.
mx::array score_head(const Options& o,
                     const std::optional<mx::array>& model_head,
                     int hidden_size) {
  if (!o.adapter.empty() &&
      (fs::exists(fs::path(o.adapter) / train::kScoreHeadFile) ||
       !model_head)) {
    return train::load_score_head(o.adapter, hidden_size);
  }
  if (!model_head) {
    fail(ErrorCode::invalid_model,
         "no score head: --model is not a reward-model folder (config.json "
         "architectures *ForSequenceClassification with score.weight); give "
         "one, or --adapter with the score.safetensors a LoRA reward run "
         "saved",
         {.file = o.model});
  }
  return *model_head;
}

// Rows waiting for a batch: all pairs or all single sequences (a file has
// one format).
struct Pending {
  std::vector<long> index;
  std::vector<data::PreferencePair> pairs;
  std::vector<data::Example> rows;
};

class Scorer {
public:
  Scorer(LoadedModel& m, std::ostream& out) : m_(m), out_(out) {}

  void add(long index, data::PreferencePair pair) {
    pending_.index.push_back(index);
    pending_.pairs.push_back(std::move(pair));
  }
  void add(long index, data::Example row) {
    pending_.index.push_back(index);
    pending_.rows.push_back(std::move(row));
  }
  size_t size() const { return pending_.index.size(); }

  void flush() {
    if (pending_.index.empty()) {
      return;
    }
    const int pad = data::default_pad_multiple();
    const bool pairs = !pending_.pairs.empty();
    mx::array tokens = mx::array(0);
    mx::array last = mx::array(0);
    if (pairs) {
      std::vector<const data::PreferencePair*> refs;
      for (const auto& p : pending_.pairs) {
        refs.push_back(&p);
      }
      std::vector<mx::array> arrays = train::reward_batch(refs, pad).arrays;
      tokens = arrays[0];
      last = arrays[1];
    } else {
      std::vector<const data::Example*> refs;
      for (const auto& e : pending_.rows) {
        refs.push_back(&e);
      }
      train::ScoredRows rows = train::score_rows(refs, pad);
      tokens = rows.tokens;
      last = rows.last;
    }
    mx::array scores = models::sequence_scores(
        m_.model.args, m_.model.weights, tokens, last, m_.ctx);
    mx::eval(scores);
    const float* s = scores.data<float>();
    const size_t B = pending_.index.size();
    for (size_t i = 0; i < B; ++i) {
      json line = {{"index", pending_.index[i]}};
      if (pairs) {
        line["chosen"] = s[i];
        line["rejected"] = s[B + i];
      } else {
        line["score"] = s[i];
      }
      out_ << line.dump() << "\n";
    }
    out_.flush();
    pending_ = {};
  }

private:
  LoadedModel& m_;
  std::ostream& out_;
  Pending pending_;
};

void run_score(const Options& o) {
  train::OpenedRewardModel rm = train::open_reward_model(o.model);
  LoadedModel m{std::move(rm.opened.model), std::move(rm.opened.tokenizer), {}};
  add_adapters(m, o.adapter);
  m.model.weights.insert_or_assign(
      models::kScoreWeight, score_head(o, rm.score, m.model.args.hidden_size));

  std::ostringstream buffered;
  std::ostream& out = o.out.empty() ? std::cout : buffered;
  Scorer scorer(m, out);
  data::RecordReader reader(o.data, {});
  long truncated = 0;
  long rows = 0;
  while (auto r = reader.next()) {
    const long index = r->row - 1;
    bool cut = false;
    if (r->record.kind == data::Record::Kind::preference) {
      data::PreferencePair pair = data::encode_preference_pair(
          r->record, m.tokenizer, o.max_seq_length, reader.file(), r->line);
      bool cut_rejected = false;
      data::truncate_example(pair.chosen, o.max_seq_length, cut);
      data::truncate_example(pair.rejected, o.max_seq_length, cut_rejected);
      cut = cut || cut_rejected;
      scorer.add(index, std::move(pair));
    } else {
      data::Example row = data::encode_record(
          r->record,
          m.tokenizer,
          {.mask_prompt = false, .max_seq_length = o.max_seq_length},
          reader.file(),
          r->line);
      data::truncate_example(row, o.max_seq_length, cut);
      scorer.add(index, std::move(row));
    }
    truncated += cut;
    ++rows;
    if (scorer.size() == static_cast<size_t>(o.batch_size)) {
      scorer.flush();
    }
  }
  scorer.flush();
  if (!o.out.empty()) {
    write_file_atomic(o.out, buffered.str());
  }
  std::cerr << "scored " << rows << " rows"
            << (truncated ? " (" + std::to_string(truncated) +
                                " cut to max_seq_length)"
                          : std::string())
            << "\n";
}

} // namespace

void add_score_command(CLI::App& app) {
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "score", "Score each row of a data file with a reward model");
  cmd->add_option("-m,--model",
                  o->model,
                  "Reward-model folder, or the base model of --adapter")
      ->required();
  cmd->add_option("-a,--adapter",
                  o->adapter,
                  "LoRA reward-model folder (adapters + score.safetensors)");
  cmd->add_option("--data",
                  o->data,
                  "Data file: preference, prompt/completion, messages or "
                  "text rows")
      ->required();
  cmd->add_option("-o,--out",
                  o->out,
                  "Write the JSON lines here (default: "
                  "stdout)");
  cmd->add_option("--batch_size", o->batch_size, "Rows (or pairs) per batch")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--max_seq_length", o->max_seq_length, "Longer rows are cut")
      ->check(CLI::Range(2, 1 << 20));
  cmd->callback([o] { run_score(*o); });
}

} // namespace mlxt::cli

// End-to-end: runs killed with SIGKILL (between steps and in the middle of
// writing a checkpoint) and resumed with `mlxt train --resume` continue
// exactly as an uninterrupted run: the same loss at every step, the same
// data cursor, and bit-identical final weights and optimizer state. Also:
// graceful stop with SIGTERM semantics, damaged checkpoints, a full disk, and
// the non-finite guard.
#include <csignal>
#include <map>
#include <random>

#include <nlohmann/json.hpp>

#include "mlxt/core/sha256.h"
#include "support/test_support.h"
#include "support/training_fixtures.h"

namespace {

using namespace mlxt::testing;
namespace fs = std::filesystem;
using nlohmann::json;

constexpr int kKilled = 128 + SIGKILL;

struct Variant {
  std::string fine_tune_type;
  std::string optimizer;
  int accumulation;
  bool packed = false;
  bool streaming = false; // shard by shard from the encoded cache
};

std::string variant_name(const ::testing::TestParamInfo<Variant>& info) {
  const Variant& v = info.param;
  return v.fine_tune_type + "_" + v.optimizer + "_accum" +
         std::to_string(v.accumulation) + (v.packed ? "_packed" : "") +
         (v.streaming ? "_streaming" : "");
}

class ResumeE2E : public ::testing::Test {
protected:
  void SetUp() override {
    write_echo_chat_dataset(dir_ / "data");
    ASSERT_EQ(init_tiny_model(dir_ / "model", dir_ / "data/train.jsonl"), "");
  }

  std::vector<std::string>
  base_args(const std::string& run_id, const Variant& v, int iters) {
    return {mlxt_binary(),
            "train",
            "--model",
            (dir_ / "model").string(),
            "--data",
            (dir_ / "data").string(),
            "--runs_dir",
            (dir_ / "runs").string(),
            "--run_id",
            run_id,
            "--adapter_path",
            (dir_ / ("out-" + run_id)).string(),
            "--fine_tune_type",
            v.fine_tune_type,
            "--optimizer",
            v.optimizer,
            "--grad_accumulation_steps",
            std::to_string(v.accumulation),
            "--iters",
            std::to_string(iters),
            "--learning_rate",
            "5e-3",
            "--lora_parameters.dropout",
            "0.1", // the RNG key must be restored too
            "--batch_size",
            "4",
            "--max_seq_length",
            "64",
            "--steps_per_report",
            "1",
            "--steps_per_eval",
            "1000",
            "--val_batches",
            "2",
            "--save_every",
            "5",
            "--pack_sequences",
            v.packed ? "true" : "false",
            "--streaming",
            v.streaming ? "true" : "false",
            // About 9 examples a shard: 7 shards, crossed many times.
            "--data_shard_tokens",
            "200"};
  }

  CommandResult resume(const std::string& run_id,
                       const std::string& failpoints = "") {
    return run_with_failpoints(
        {mlxt_binary(), "train", "--resume", (dir_ / "runs" / run_id).string()},
        failpoints);
  }

  // The loss and data cursor of each step, the last record of each step
  // winning (a step after the newest checkpoint is run again on resume).
  std::map<int, std::pair<double, long>> steps(const std::string& run_id) {
    std::map<int, std::pair<double, long>> out;
    for (const auto& r : metric_events(
             read_metrics(dir_ / "runs" / run_id / "metrics.jsonl"), "train")) {
      out[r["step"].get<int>()] = {r["loss"].get<double>(),
                                   r["data_cursor"].get<long>()};
    }
    return out;
  }

  // Digests of the tensor files of a run's final checkpoint.
  std::map<std::string, std::string> final_tensors(const std::string& run_id,
                                                   int iters) {
    char name[32];
    std::snprintf(name, sizeof(name), "step-%08d", iters);
    const fs::path dir = dir_ / "runs" / run_id / "checkpoints" / name;
    std::map<std::string, std::string> out;
    for (const char* file : {"trainable.safetensors",
                             "optimizer.safetensors",
                             "loop.safetensors"}) {
      out[file] = mlxt::sha256_file_hex(dir / file);
    }
    return out;
  }

  TempDir dir_;
};

class ExactResume : public ResumeE2E,
                    public ::testing::WithParamInterface<Variant> {};

TEST_P(ExactResume, KilledThreeTimesAndResumedMatchesTheUninterruptedRun) {
  const Variant v = GetParam();
  const int iters = 60;
  auto whole = run_command(base_args("whole", v, iters));
  ASSERT_EQ(whole.exit_code, 0) << whole.output;

  // Killed after step 17 (newest checkpoint: 15).
  auto first = run_command(base_args("killed", v, iters),
                           {{"MLXT_FAILPOINTS", "train.step:17"}});
  ASSERT_EQ(first.exit_code, kKilled) << first.output;
  // Resumed at 15; killed while writing the second file of its second
  // checkpoint (step 25), so step 20 is the newest complete one.
  auto second = resume("killed", "checkpoint.file:7");
  ASSERT_EQ(second.exit_code, kKilled) << second.output;
  // Resumed at 20; killed after its 22nd step (step 42).
  auto third = resume("killed", "train.step:22");
  ASSERT_EQ(third.exit_code, kKilled) << third.output;
  auto last = resume("killed");
  ASSERT_EQ(last.exit_code, 0) << last.output;

  auto records = read_metrics(dir_ / "runs/killed/metrics.jsonl");
  auto resumes = metric_events(records, "resume");
  ASSERT_EQ(resumes.size(), 3u);
  EXPECT_EQ(resumes[0]["step"], 15);
  EXPECT_EQ(resumes[1]["step"], 20);
  EXPECT_EQ(resumes[2]["step"], 40);
  for (const auto& r : resumes) {
    EXPECT_TRUE(r["exact"].get<bool>());
  }

  auto expected = steps("whole");
  auto got = steps("killed");
  ASSERT_EQ(expected.size(), size_t(iters));
  ASSERT_EQ(got.size(), size_t(iters));
  for (const auto& [step, loss_and_cursor] : expected) {
    // Bit-identical: the same doubles, not merely close ones.
    EXPECT_EQ(got[step].first, loss_and_cursor.first) << "step " << step;
    EXPECT_EQ(got[step].second, loss_and_cursor.second) << "step " << step;
  }
  EXPECT_EQ(final_tensors("killed", iters), final_tensors("whole", iters));
}

// LoRA and full x AdamW and SGD x accumulation 1 and 4 x packing off and on,
// and two streaming runs.
std::vector<Variant> matrix() {
  std::vector<Variant> out;
  for (const char* method : {"lora", "full"}) {
    for (const char* optimizer : {"adamw", "sgd"}) {
      for (int accumulation : {1, 4}) {
        for (bool packed : {false, true}) {
          out.push_back({method, optimizer, accumulation, packed});
        }
      }
    }
  }
  // Streaming: the checkpoint stores the shard stream's cursor.
  out.push_back({"lora", "adamw", 4, false, true});
  out.push_back({"full", "sgd", 1, true, true});
  return out;
}

INSTANTIATE_TEST_SUITE_P(Matrix,
                         ExactResume,
                         ::testing::ValuesIn(matrix()),
                         variant_name);

// `mlxt data encode` writes the cache a run then reuses (it reads and
// tokenizes nothing), and that run trains exactly as one without a cache.
TEST_F(ResumeE2E, TrainingReusesTheCacheThatDataEncodeWrote) {
  const Variant v{"lora", "adamw", 1};
  const std::vector<std::string> encode = {
      mlxt_binary(),
      "data",
      "encode",
      (dir_ / "data").string(),
      "--model",
      (dir_ / "model").string(),
      "--out",
      (dir_ / "runs/.cache/encoded").string(),
      "--max-seq-length",
      "64",
      "--shard-tokens",
      "200"};
  auto encoded = run_command(encode);
  ASSERT_EQ(encoded.exit_code, 0) << encoded.output;
  EXPECT_NE(encoded.output.find("train.jsonl -> "), std::string::npos);
  EXPECT_NE(encoded.output.find("encoded (not cached yet)"), std::string::npos)
      << encoded.output;
  auto again = run_command(encode);
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_EQ(again.output.find("encoded ("), std::string::npos) << again.output;

  auto cache_events = [&](const std::string& run_id) {
    return metric_events(read_metrics(dir_ / "runs" / run_id / "metrics.jsonl"),
                         "data_cache");
  };
  auto cached = run_command(base_args("cached", v, 3));
  ASSERT_EQ(cached.exit_code, 0) << cached.output;
  auto uncached_args = base_args("uncached", v, 3);
  uncached_args.insert(uncached_args.end(), {"--data_cache", "none"});
  auto uncached = run_command(uncached_args);
  ASSERT_EQ(uncached.exit_code, 0) << uncached.output;

  const auto events = cache_events("cached");
  ASSERT_EQ(events.size(), 2u); // train and valid
  for (const auto& e : events) {
    EXPECT_TRUE(e["reused"].get<bool>()) << e.dump();
    EXPECT_TRUE(
        fs::exists(fs::path(e["path"].get<std::string>()) / "manifest.json"));
  }
  EXPECT_TRUE(cache_events("uncached").empty());
  EXPECT_EQ(steps("cached"), steps("uncached"));
}

// 50 SIGKILLs at random places of checkpoint writes (between files,
// before the rename, before the commit marker), saving every step: every
// resume finds an intact checkpoint and the final state equals an
// uninterrupted run's.
TEST_F(ResumeE2E, FiftyKillsWhileSavingNeverBreakResume) {
  const Variant v{"lora", "adamw", 1};
  const int iters = 120;
  auto with_every_step_saved = [&](const std::string& run_id) {
    auto args = base_args(run_id, v, iters);
    args.insert(args.end(), {"--save_every", "1", "--keep_checkpoints", "2"});
    return args;
  };
  auto whole = run_command(with_every_step_saved("whole"));
  ASSERT_EQ(whole.exit_code, 0) << whole.output;

  std::mt19937 random(1234);
  const std::vector<std::string> points = {"checkpoint.file",
                                           "checkpoint.before_rename",
                                           "checkpoint.before_commit"};
  auto pick = [&] {
    const std::string& point = points[random() % points.size()];
    // checkpoint.file is hit 5 times per checkpoint, the others once.
    int hits =
        point == "checkpoint.file" ? 1 + random() % 10 : 1 + random() % 2;
    return point + ":" + std::to_string(hits);
  };
  // The first run gets three checkpoints committed, so there is always one
  // to resume from; then 50 kills land inside checkpoint writes.
  auto first = run_command(with_every_step_saved("killed"),
                           {{"MLXT_FAILPOINTS", "train.step:3"}});
  ASSERT_EQ(first.exit_code, kKilled) << first.output;
  for (int kill = 1; kill <= 50; ++kill) {
    auto r = resume("killed", pick());
    ASSERT_EQ(r.exit_code, kKilled) << "kill " << kill << ":\n" << r.output;
  }
  auto last = resume("killed");
  ASSERT_EQ(last.exit_code, 0) << last.output;
  EXPECT_EQ(final_tensors("killed", iters), final_tensors("whole", iters));
}

// A checkpoint written before Adam's settings moved under optimizer_config
// (its config.json has betas, eps, weight_decay and bias_correction at the
// top level) resumes exactly: they are aliases of the chosen Adam block.
TEST_F(ResumeE2E, CheckpointWithTopLevelAdamSettingsResumesExactly) {
  const Variant v{"lora", "adam", 1};
  const int iters = 10;
  auto with_adam_settings = [&](const std::string& run_id) {
    auto args = base_args(run_id, v, iters);
    args.insert(
        args.end(),
        {"--betas", "0.8,0.95", "--eps", "1e-6", "--bias_correction", "true"});
    return args;
  };
  auto whole = run_command(with_adam_settings("whole"));
  ASSERT_EQ(whole.exit_code, 0) << whole.output;
  auto first = run_command(with_adam_settings("earlier"),
                           {{"MLXT_FAILPOINTS", "train.step:7"}});
  ASSERT_EQ(first.exit_code, kKilled) << first.output;

  // Step 5's config.json as earlier versions wrote it, with its manifest and
  // commit marker made to match.
  const fs::path five = dir_ / "runs/earlier/checkpoints/step-00000005";
  json config = json::parse(read_file(five / "config.json"));
  const json adam = config["optimizer_config"]["adam"];
  ASSERT_EQ(adam["beta1"], 0.8) << config.dump();
  config["betas"] = {adam["beta1"], adam["beta2"]};
  config["eps"] = adam["eps"];
  config["bias_correction"] = adam["bias_correction"];
  config["weight_decay"] = 0.01; // written for adam too, and unused
  config["optimizer_config"] = nullptr;
  write_file(five / "config.json", config.dump(2) + "\n");
  json manifest = json::parse(read_file(five / "manifest.json"));
  manifest["files"]["config.json"] = {
      {"size", fs::file_size(five / "config.json")},
      {"sha256", mlxt::sha256_file_hex(five / "config.json")}};
  write_file(five / "manifest.json", manifest.dump(2) + "\n");
  write_file(
      five / "COMMITTED",
      json{{"manifest_sha256", mlxt::sha256_file_hex(five / "manifest.json")}}
              .dump() +
          "\n");

  auto resumed = resume("earlier");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  auto records = read_metrics(dir_ / "runs/earlier/metrics.jsonl");
  ASSERT_EQ(metric_events(records, "resume").size(), 1u);
  EXPECT_TRUE(metric_events(records, "resume")[0]["exact"].get<bool>());
  EXPECT_EQ(steps("earlier"), steps("whole"));
  EXPECT_EQ(final_tensors("earlier", iters), final_tensors("whole", iters));
}

TEST_F(ResumeE2E, SigtermCheckpointsAtTheNextStepAndExitsWithStatus75) {
  const Variant v{"lora", "adamw", 1};
  const int iters = 20;
  auto whole = run_command(base_args("whole", v, iters));
  ASSERT_EQ(whole.exit_code, 0) << whole.output;
  // SIGTERM arrives at the end of step 7; the loop notices it after step 8.
  auto stopped = run_command(base_args("stopped", v, iters),
                             {{"MLXT_FAILPOINTS", "train.step:7:TERM"}});
  ASSERT_EQ(stopped.exit_code, 75) << stopped.output;
  EXPECT_NE(stopped.output.find("mlxt train --resume"), std::string::npos);
  auto records = read_metrics(dir_ / "runs/stopped/metrics.jsonl");
  ASSERT_EQ(metric_events(records, "stopped").size(), 1u);
  EXPECT_EQ(metric_events(records, "stopped")[0]["step"], 8);
  EXPECT_TRUE(
      fs::exists(dir_ / "runs/stopped/checkpoints/step-00000008/COMMITTED"));
  auto resumed = resume("stopped");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_EQ(final_tensors("stopped", iters), final_tensors("whole", iters));
}

TEST_F(ResumeE2E, DamagedNewestCheckpointIsReportedAndThePreviousOneUsed) {
  const Variant v{"lora", "adamw", 1};
  auto first = run_command(base_args("run", v, 60),
                           {{"MLXT_FAILPOINTS", "train.step:12"}});
  ASSERT_EQ(first.exit_code, kKilled) << first.output;
  const fs::path ten = dir_ / "runs/run/checkpoints/step-00000010";
  ASSERT_TRUE(fs::exists(ten / "COMMITTED"));
  // Flip one byte in the middle of the optimizer state.
  {
    std::string bytes = read_file(ten / "optimizer.safetensors");
    bytes[bytes.size() / 2] ^= 0x5a;
    write_file(ten / "optimizer.safetensors", bytes);
  }
  auto r = resume("run", "train.step:1");
  ASSERT_EQ(r.exit_code, kKilled) << r.output;
  EXPECT_NE(r.output.find("optimizer.safetensors: altered"), std::string::npos)
      << r.output;
  auto resumes =
      metric_events(read_metrics(dir_ / "runs/run/metrics.jsonl"), "resume");
  ASSERT_EQ(resumes.size(), 1u);
  EXPECT_EQ(resumes[0]["step"], 5);

  // A truncated file in the only checkpoint left: nothing to resume from,
  // and the error names the file.
  fs::remove_all(ten);
  const fs::path five = dir_ / "runs/run/checkpoints/step-00000005";
  fs::resize_file(five / "trainable.safetensors", 100);
  auto none = resume("run");
  EXPECT_EQ(none.exit_code, 1) << none.output;
  EXPECT_NE(none.output.find("trainable.safetensors: truncated"),
            std::string::npos)
      << none.output;
}

TEST_F(ResumeE2E, FullDiskDuringSaveFailsTheRunAndKeepsThePreviousCheckpoint) {
  const Variant v{"full", "adamw", 1};
  auto first = run_command(base_args("run", v, 60),
                           {{"MLXT_FAILPOINTS", "train.step:7"}});
  ASSERT_EQ(first.exit_code, kKilled) << first.output;
  const fs::path five = dir_ / "runs/run/checkpoints/step-00000005";
  ASSERT_TRUE(fs::exists(five / "COMMITTED"));
  const std::string before = read_file(five / "trainable.safetensors");

  CommandResult r;
  {
    FileSizeLimit full_disk(64 * 1024); // inherited by the trainer
    r = resume("run");
  }

  EXPECT_EQ(r.exit_code, 1) << r.output;
  auto records = read_metrics(dir_ / "runs/run/metrics.jsonl");
  ASSERT_FALSE(records.empty());
  EXPECT_EQ(records.back()["event"], "failed") << records.back().dump();
  EXPECT_TRUE(metric_events(records, "done").empty());
  // The previous checkpoint is untouched and still the one to resume from;
  // no temporary folder is left behind.
  EXPECT_EQ(read_file(five / "trainable.safetensors"), before);
  for (const auto& entry :
       fs::directory_iterator(dir_ / "runs/run/checkpoints")) {
    EXPECT_EQ(entry.path().filename().string().rfind(".", 0), std::string::npos)
        << entry.path();
  }
  auto again = resume("run", "train.step:1");
  EXPECT_EQ(again.exit_code, kKilled) << again.output;
  auto resumes =
      metric_events(read_metrics(dir_ / "runs/run/metrics.jsonl"), "resume");
  ASSERT_EQ(resumes.size(), 2u);
  EXPECT_EQ(resumes.back()["step"], 5);
}

TEST_F(ResumeE2E, ResumeRefusesChangedInputsUnlessForced) {
  const Variant v{"lora", "adamw", 1};
  auto first = run_command(base_args("run", v, 60),
                           {{"MLXT_FAILPOINTS", "train.step:6"}});
  ASSERT_EQ(first.exit_code, kKilled) << first.output;
  auto refused = run_command({mlxt_binary(),
                              "train",
                              "--resume",
                              (dir_ / "runs/run").string(),
                              "--batch_size",
                              "2"});
  EXPECT_EQ(refused.exit_code, 1) << refused.output;
  EXPECT_NE(refused.output.find("batch_size: changed since the checkpoint"),
            std::string::npos)
      << refused.output;
  // Changing the training data is refused the same way.
  write_file(dir_ / "data/train.jsonl",
             read_file(dir_ / "data/train.jsonl") +
                 read_file(dir_ / "data/valid.jsonl"));
  auto data_changed = resume("run");
  EXPECT_NE(data_changed.output.find("dataset: changed"), std::string::npos)
      << data_changed.output;
  auto forced = run_command({mlxt_binary(),
                             "train",
                             "--resume",
                             (dir_ / "runs/run").string(),
                             "--force",
                             "--iters",
                             "8"});
  ASSERT_EQ(forced.exit_code, 0) << forced.output;
  auto records = read_metrics(dir_ / "runs/run/metrics.jsonl");
  auto resumes = metric_events(records, "resume");
  ASSERT_EQ(resumes.size(), 1u);
  EXPECT_FALSE(resumes[0]["exact"].get<bool>());
  EXPECT_FALSE(metric_events(records, "done").back()["exact"].get<bool>());
}

TEST_F(ResumeE2E, NonFiniteStepIsNotAppliedAndTheErrorNamesIt) {
  const Variant v{"full", "sgd", 1};
  // SGD at a huge learning rate: step 1's update is finite but ruinous, so
  // step 2's loss overflows.
  auto args = base_args("run", v, 10);
  args.insert(args.end(), {"--learning_rate", "1e30"});
  auto r = run_command(args);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("step 2: the loss"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("the update was not applied"), std::string::npos)
      << r.output;
  auto records = read_metrics(dir_ / "runs/run/metrics.jsonl");
  ASSERT_EQ(metric_events(records, "skipped_step").size(), 1u);
  EXPECT_EQ(metric_events(records, "skipped_step")[0]["step"], 2);
  EXPECT_EQ(records.back()["event"], "failed");

  // skip policy: every later step is poisoned too; the run fails once more
  // than max_skipped_steps steps in a row were skipped.
  args = base_args("skip", v, 10);
  args.insert(args.end(),
              {"--learning_rate",
               "1e30",
               "--nonfinite_policy",
               "skip",
               "--max_skipped_steps",
               "3"});
  auto s = run_command(args);
  EXPECT_EQ(s.exit_code, 1) << s.output;
  EXPECT_NE(s.output.find("4 steps in a row were skipped"), std::string::npos)
      << s.output;
}

} // namespace

// Checkpoint folders: round trip, manifest checks that catch flipped bytes
// and truncation, the newest-intact lookup that clears incomplete writes,
// retention, and a write that fails part-way (file-size limit) leaving the
// previous checkpoint untouched.

#include "mlxt/ckpt/checkpoint.h"
#include "mlxt/ckpt/checkpoint_dir.h"
#include "support/test_support.h"

namespace {

using namespace mlxt;
namespace fs = std::filesystem;
namespace mx = mlx::core;
using mlxt::testing::read_file;
using mlxt::testing::TempDir;
using mlxt::testing::write_file;

ckpt::Checkpoint sample(long step, int elements = 64) {
  ckpt::Checkpoint c;
  c.step = step;
  c.tensors["trainable"] = {
      {"w", mx::multiply(mx::arange(elements, mx::float32), mx::array(0.5f))},
      {"counter", mx::array(uint64_t(step), mx::uint64)}};
  c.tensors["optimizer"] = {{"w.m", mx::ones({elements}, mx::float32)}};
  c.documents["state"] = {{"iteration", step}, {"val_loss", 1.0 / step}};
  return c;
}

TEST(Checkpoint, RoundTripsTensorsAndDocuments) {
  TempDir dir;
  fs::path written = ckpt::write_checkpoint(dir.path(), sample(7));
  EXPECT_EQ(written.filename(), "step-00000007");
  EXPECT_TRUE(fs::exists(written / "COMMITTED"));
  EXPECT_TRUE(fs::exists(written / "manifest.json"));
  ckpt::Checkpoint back = ckpt::read_checkpoint(written);
  EXPECT_EQ(back.step, 7);
  EXPECT_TRUE(mx::array_equal(back.tensors.at("trainable").at("w"),
                              sample(7).tensors.at("trainable").at("w"))
                  .item<bool>());
  EXPECT_EQ(back.tensors.at("trainable").at("counter").dtype(), mx::uint64);
  EXPECT_EQ(back.documents.at("state").at("iteration"), 7);
}

TEST(Checkpoint, FlippedByteAndTruncationAreNamed) {
  TempDir dir;
  fs::path c = ckpt::write_checkpoint(dir.path(), sample(3));
  std::string bytes = read_file(c / "optimizer.safetensors");
  bytes[bytes.size() - 3] ^= 1;
  write_file(c / "optimizer.safetensors", bytes);
  EXPECT_MLXT_ERROR(ckpt::verify_checkpoint(c),
                    invalid_checkpoint,
                    "optimizer.safetensors: altered");

  fs::path d = ckpt::write_checkpoint(dir.path(), sample(4));
  fs::resize_file(d / "trainable.safetensors", 10);
  EXPECT_MLXT_ERROR(ckpt::read_checkpoint(d),
                    invalid_checkpoint,
                    "trainable.safetensors: truncated: 10 bytes");

  fs::path e = ckpt::write_checkpoint(dir.path(), sample(5));
  fs::remove(e / "COMMITTED");
  EXPECT_MLXT_ERROR(
      ckpt::verify_checkpoint(e), invalid_checkpoint, "never committed");
}

TEST(CheckpointDir, LatestSkipsDamagedAndClearsIncomplete) {
  TempDir dir;
  for (long step : {1, 2, 3}) {
    ckpt::write_checkpoint(dir.path(), sample(step));
  }
  // Damaged newest; an uncommitted folder; an interrupted temp folder.
  std::string bytes = read_file(dir / "step-00000003/trainable.safetensors");
  bytes[bytes.size() / 2] ^= 0x40;
  write_file(dir / "step-00000003/trainable.safetensors", bytes);
  fs::path uncommitted = ckpt::write_checkpoint(dir.path(), sample(4));
  fs::remove(uncommitted / "COMMITTED");
  fs::create_directories(dir / ".step-00000005.tmp-99");
  write_file(dir / ".step-00000005.tmp-99/trainable.safetensors", "partial");

  ckpt::LatestCheckpoint latest = ckpt::find_latest_checkpoint(dir.path());
  ASSERT_TRUE(latest.dir.has_value());
  EXPECT_EQ(latest.dir->filename(), "step-00000002");
  ASSERT_EQ(latest.rejected.size(), 1u);
  EXPECT_NE(latest.rejected[0].find("step-00000003/trainable.safetensors"),
            std::string::npos)
      << latest.rejected[0];
  EXPECT_EQ(latest.removed.size(), 2u);
  EXPECT_FALSE(fs::exists(uncommitted));
  EXPECT_FALSE(fs::exists(dir / ".step-00000005.tmp-99"));
}

TEST(CheckpointDir, PruneKeepsTheNewestAndTheOneAskedFor) {
  TempDir dir;
  for (long step : {1, 2, 3, 4, 5}) {
    ckpt::write_checkpoint(dir.path(), sample(step));
  }
  ckpt::prune_checkpoints(dir.path(), 2, dir / "step-00000002");
  std::vector<std::string> left;
  for (const auto& entry : fs::directory_iterator(dir.path())) {
    left.push_back(entry.path().filename().string());
  }
  std::sort(left.begin(), left.end());
  EXPECT_EQ(left,
            (std::vector<std::string>{
                "step-00000002", "step-00000004", "step-00000005"}));
}

TEST(Checkpoint, FailedWriteKeepsThePreviousCheckpointAndLeavesNoTemp) {
  TempDir dir;
  fs::path previous = ckpt::write_checkpoint(dir.path(), sample(1));
  const std::string before = read_file(previous / "trainable.safetensors");

  bool failed = false;
  {
    mlxt::testing::FileSizeLimit full_disk(16 * 1024);
    try {
      ckpt::write_checkpoint(dir.path(), sample(2, 1 << 16));
    } catch (const Error& e) {
      failed = e.code() == ErrorCode::io;
    }
  }

  EXPECT_TRUE(failed);
  EXPECT_EQ(read_file(previous / "trainable.safetensors"), before);
  ckpt::LatestCheckpoint latest = ckpt::find_latest_checkpoint(dir.path());
  ASSERT_TRUE(latest.dir.has_value());
  EXPECT_EQ(latest.dir->filename(), "step-00000001");
  EXPECT_TRUE(latest.removed.empty()); // the failed write cleaned up itself
}

} // namespace

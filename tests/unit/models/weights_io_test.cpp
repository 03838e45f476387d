// Model folder weights (mlxt/models/weights_io.h): single file and sharded
// round trips, stale file clean-up, index validation and refused inputs.
#include <nlohmann/json.hpp>

#include "mlxt/core/safetensors.h"
#include "mlxt/models/weights_io.h"
#include "support/test_support.h"

namespace {

namespace fs = std::filesystem;
namespace mx = mlx::core;
using json = nlohmann::json;
using mlxt::testing::read_file;
using mlxt::testing::TempDir;
using mlxt::testing::write_file;

// Eight f32 tensors "layers.<i>.weight" of shape (4, 4) = 64 bytes each, plus
// "embed" (8, 4) bf16 = 64 bytes: 576 bytes in all.
mlxt::Params model_params() {
  mx::random::seed(3);
  mlxt::Params params;
  for (int i = 0; i < 8; ++i) {
    params.emplace("layers." + std::to_string(i) + ".weight",
                   mx::random::normal({4, 4}));
  }
  params.emplace("embed", mx::astype(mx::random::normal({8, 4}), mx::bfloat16));
  return params;
}

void expect_bit_identical(const mlxt::Params& a, const mlxt::Params& b) {
  ASSERT_EQ(mlxt::param_names(a), mlxt::param_names(b));
  for (const auto& [name, array] : a) {
    const auto& other = b.at(name);
    EXPECT_EQ(array.dtype(), other.dtype()) << name;
    EXPECT_EQ(array.shape(), other.shape()) << name;
    EXPECT_TRUE(mx::array_equal(array, other).item<bool>()) << name;
  }
}

std::vector<std::string> folder_names(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) {
    names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

TEST(WeightsIo, SingleFileRoundTrip) {
  TempDir dir;
  auto params = model_params();
  mlxt::models::save_weights(dir.path(), params);
  EXPECT_EQ(folder_names(dir.path()),
            std::vector<std::string>{"model.safetensors"});
  auto header = mlxt::read_safetensors_header(dir / "model.safetensors");
  EXPECT_EQ(header.metadata.at("format"), "mlx");
  auto loaded = mlxt::models::load_weights(dir.path());
  expect_bit_identical(params, loaded);

  // load -> save -> load again, into a second folder: same bytes.
  TempDir again;
  mlxt::models::save_weights(again.path(), loaded);
  EXPECT_EQ(read_file(dir / "model.safetensors"),
            read_file(again / "model.safetensors"));
}

TEST(WeightsIo, ShardedRoundTrip) {
  TempDir dir;
  auto params = model_params();
  // 200 bytes fit three 64-byte tensors: 9 tensors -> 3 shards.
  mlxt::models::save_weights(dir.path(), params, 200);
  EXPECT_EQ(folder_names(dir.path()),
            (std::vector<std::string>{"model-00001-of-00003.safetensors",
                                      "model-00002-of-00003.safetensors",
                                      "model-00003-of-00003.safetensors",
                                      "model.safetensors.index.json"}));
  auto index = json::parse(read_file(dir / "model.safetensors.index.json"));
  EXPECT_EQ(index["metadata"]["total_size"], 576);
  // Name order, greedy fill: "embed" sorts first.
  EXPECT_EQ(index["weight_map"]["embed"], "model-00001-of-00003.safetensors");
  EXPECT_EQ(index["weight_map"]["layers.2.weight"],
            "model-00002-of-00003.safetensors");
  EXPECT_EQ(index["weight_map"]["layers.7.weight"],
            "model-00003-of-00003.safetensors");
  EXPECT_EQ(index["weight_map"].size(), 9u);
  auto loaded = mlxt::models::load_weights(dir.path());
  expect_bit_identical(params, loaded);

  TempDir again;
  mlxt::models::save_weights(again.path(), loaded, 200);
  for (const auto& name : folder_names(dir.path())) {
    EXPECT_EQ(read_file(dir / name), read_file(again / name)) << name;
  }
}

TEST(WeightsIo, TensorLargerThanShardLimitGetsItsOwnShard) {
  TempDir dir;
  mlxt::Params params{{"a", mx::zeros({4})},  // 16 bytes
                      {"b", mx::zeros({64})}, // 256 bytes, above the limit
                      {"c", mx::zeros({4})}};
  mlxt::models::save_weights(dir.path(), params, 100);
  auto index = json::parse(read_file(dir / "model.safetensors.index.json"));
  EXPECT_EQ(index["weight_map"]["a"], "model-00001-of-00003.safetensors");
  EXPECT_EQ(index["weight_map"]["b"], "model-00002-of-00003.safetensors");
  EXPECT_EQ(index["weight_map"]["c"], "model-00003-of-00003.safetensors");
  expect_bit_identical(params, mlxt::models::load_weights(dir.path()));
}

TEST(WeightsIo, StaleFilesOfAnEarlierSaveAreRemoved) {
  TempDir dir;
  auto params = model_params();
  mlxt::models::save_weights(dir.path(), params, 200); // 3 shards
  write_file(dir / "config.json", "{}");               // not ours: kept
  mlxt::models::save_weights(dir.path(), params, 320); // 2 shards
  EXPECT_EQ(folder_names(dir.path()),
            (std::vector<std::string>{"config.json",
                                      "model-00001-of-00002.safetensors",
                                      "model-00002-of-00002.safetensors",
                                      "model.safetensors.index.json"}));
  expect_bit_identical(params, mlxt::models::load_weights(dir.path()));

  mlxt::models::save_weights(dir.path(), params); // one file
  EXPECT_EQ(folder_names(dir.path()),
            (std::vector<std::string>{"config.json", "model.safetensors"}));
  expect_bit_identical(params, mlxt::models::load_weights(dir.path()));

  mlxt::models::save_weights(dir.path(), params, 320); // shards again
  EXPECT_FALSE(fs::exists(dir / "model.safetensors"));
  expect_bit_identical(params, mlxt::models::load_weights(dir.path()));
}

TEST(WeightsIo, LoadsUnindexedSafetensorsFiles) {
  TempDir dir;
  mlxt::save_safetensors_file(dir / "part-a.safetensors",
                              {{"x", mx::ones({2})}});
  mlxt::save_safetensors_file(dir / "part-b.safetensors",
                              {{"y", mx::ones({3})}});
  // A leftover temporary of an interrupted write is hidden and ignored.
  mlxt::save_safetensors_file(dir / ".model.safetensors.tmp-1.safetensors",
                              {{"x", mx::ones({2})}});
  auto loaded = mlxt::models::load_weights(dir.path());
  EXPECT_EQ(mlxt::param_names(loaded), (std::vector<std::string>{"x", "y"}));
}

TEST(WeightsIo, SaveRejectsZeroShardLimit) {
  TempDir dir;
  EXPECT_MLXT_ERROR(mlxt::models::save_weights(dir.path(), model_params(), 0),
                    invalid_config,
                    "max_shard_bytes is 0");
}

// --- bad folders -----------------------------------------------------------

// Two shards holding "a" and "b" each, with an index that `edit` may change.
void write_sharded_folder(const TempDir& dir) {
  mlxt::Params params{{"a", mx::zeros({4})},
                      {"b", mx::zeros({4})},
                      {"c", mx::zeros({4})},
                      {"d", mx::zeros({4})}};
  mlxt::models::save_weights(dir.path(), params, 32);
}

json read_index(const TempDir& dir) {
  return json::parse(read_file(dir / "model.safetensors.index.json"));
}

void write_index(const TempDir& dir, const json& index) {
  write_file(dir / "model.safetensors.index.json", index.dump());
}

TEST(WeightsIoErrors, MissingFolder) {
  TempDir dir;
  EXPECT_MLXT_ERROR(mlxt::models::load_weights(dir / "nope"),
                    not_found,
                    "nope: model folder does not exist");
}

TEST(WeightsIoErrors, EmptyFolder) {
  TempDir dir;
  EXPECT_MLXT_ERROR(mlxt::models::load_weights(dir.path()),
                    not_found,
                    "no weights in the model folder");
}

TEST(WeightsIoErrors, PickleOnlyFolder) {
  TempDir dir;
  write_file(dir / "pytorch_model.bin", "PK\x03\x04 not really");
  write_file(dir / "config.json", "{}");
  EXPECT_MLXT_ERROR(
      mlxt::models::load_weights(dir.path()),
      unsupported,
      "pickle weights (pytorch_model.bin); they are refused because loading a "
      "pickle can run arbitrary code");
  EXPECT_MLXT_ERROR(mlxt::models::load_weights(dir.path()),
                    unsupported,
                    "save_pretrained('OUT', safe_serialization=True)");
}

TEST(WeightsIoErrors, IndexNamesMissingShard) {
  TempDir dir;
  write_sharded_folder(dir);
  fs::remove(dir / "model-00002-of-00002.safetensors");
  EXPECT_MLXT_ERROR(mlxt::models::load_weights(dir.path()),
                    invalid_model,
                    "weight_map names shard files that do not exist: "
                    "model-00002-of-00002.safetensors (2 tensors)");
}

TEST(WeightsIoErrors, IndexNamesTensorsAbsentFromShard) {
  TempDir dir;
  write_sharded_folder(dir);
  auto index = read_index(dir);
  index["weight_map"]["ghost.1"] = "model-00001-of-00002.safetensors";
  index["weight_map"]["ghost.2"] = "model-00002-of-00002.safetensors";
  write_index(dir, index);
  // Both are reported at once.
  EXPECT_MLXT_ERROR(mlxt::models::load_weights(dir.path()),
                    invalid_model,
                    "2 listed tensors are missing from their shard: "
                    "ghost.1 (expected in model-00001-of-00002.safetensors), "
                    "ghost.2 (expected in model-00002-of-00002.safetensors)");
}

TEST(WeightsIoErrors, ShardHoldsUnlistedTensor) {
  TempDir dir;
  write_sharded_folder(dir);
  auto index = read_index(dir);
  index["weight_map"].erase("d");
  write_index(dir, index);
  EXPECT_MLXT_ERROR(mlxt::models::load_weights(dir.path()),
                    invalid_model,
                    "1 tensors in shards are not listed in weight_map: "
                    "d (in model-00002-of-00002.safetensors)");
}

TEST(WeightsIoErrors, IndexWithoutWeightMap) {
  TempDir dir;
  write_sharded_folder(dir);
  write_index(dir, json{{"metadata", json::object()}});
  EXPECT_MLXT_ERROR(mlxt::models::load_weights(dir.path()),
                    invalid_model,
                    "weight_map: expected an object with \"weight_map\"");
}

TEST(WeightsIoErrors, IndexShardPathLeavesFolder) {
  TempDir dir;
  write_sharded_folder(dir);
  auto index = read_index(dir);
  index["weight_map"]["a"] = "../model-00001-of-00002.safetensors";
  write_index(dir, index);
  EXPECT_MLXT_ERROR(mlxt::models::load_weights(dir.path()),
                    invalid_model,
                    "is not a plain file name in the model folder");
}

TEST(WeightsIoErrors, BadShardIsReportedWithItsFile) {
  TempDir dir;
  write_sharded_folder(dir);
  write_file(dir / "model-00001-of-00002.safetensors", "tiny");
  EXPECT_MLXT_ERROR(mlxt::models::load_weights(dir.path()),
                    invalid_model,
                    "model-00001-of-00002.safetensors: truncated");
}

TEST(WeightsIoErrors, DuplicateTensorAcrossUnindexedFiles) {
  TempDir dir;
  mlxt::save_safetensors_file(dir / "a.safetensors", {{"x", mx::ones({2})}});
  mlxt::save_safetensors_file(dir / "b.safetensors", {{"x", mx::ones({2})}});
  EXPECT_MLXT_ERROR(
      mlxt::models::load_weights(dir.path()),
      invalid_model,
      "b.safetensors: x: tensor appears in more than one .safetensors file");
}

} // namespace

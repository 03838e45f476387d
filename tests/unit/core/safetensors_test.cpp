// Safetensors reading, validation and atomic saving (mlxt/core/safetensors.h).
//
// Bad files are crafted byte by byte: an 8-byte little-endian header length,
// the JSON header, then the data section.
#include <cstring>

#include "mlxt/core/safetensors.h"
#include "support/test_support.h"

namespace {

namespace fs = std::filesystem;
namespace mx = mlx::core;
using mlxt::testing::read_file;
using mlxt::testing::TempDir;
using mlxt::testing::write_file;

// A safetensors file: u64 LE length of `header`, `header`, `data_bytes` zeros.
std::string safetensors_bytes(const std::string& header, size_t data_bytes) {
  std::string out(8, '\0');
  uint64_t length = header.size();
  for (int i = 0; i < 8; ++i) {
    out[i] = static_cast<char>((length >> (8 * i)) & 0xff);
  }
  return out + header + std::string(data_bytes, '\0');
}

fs::path write_safetensors(const TempDir& dir,
                           const std::string& header,
                           size_t data_bytes) {
  fs::path file = dir / "bad.safetensors";
  write_file(file, safetensors_bytes(header, data_bytes));
  return file;
}

// The raw bytes of an array, for bit-exact comparison (NaN payloads too).
std::string bytes_of(mx::array a) {
  a = mx::contiguous(a);
  a.eval();
  return std::string(a.data<char>(), a.nbytes());
}

// (2, 3) f32, (4,) f16, (2, 2) bf16, (5,) int32, (3,) uint8, (2,) bool.
mlxt::Params sample_params() {
  mx::random::seed(7);
  auto normal = mx::random::normal({2, 3});
  return {
      {"model.embed.weight", normal},
      {"model.norm.weight", mx::astype(mx::random::normal({4}), mx::float16)},
      {"lm_head.weight", mx::astype(mx::random::normal({2, 2}), mx::bfloat16)},
      {"counts", mx::array({1, -2, 3, 2147483647, -2147483647 - 1})},
      {"bytes", mx::array({0, 128, 255}, mx::uint8)},
      {"mask", mx::array({true, false})},
  };
}

void expect_bit_identical(const mlxt::Params& a, const mlxt::Params& b) {
  ASSERT_EQ(mlxt::param_names(a), mlxt::param_names(b));
  for (const auto& [name, array] : a) {
    const auto& other = b.at(name);
    EXPECT_EQ(array.dtype(), other.dtype()) << name;
    EXPECT_EQ(array.shape(), other.shape()) << name;
    EXPECT_TRUE(mx::array_equal(array, other, /*equal_nan=*/true).item<bool>())
        << name;
    EXPECT_EQ(bytes_of(array), bytes_of(other)) << name;
  }
}

TEST(Safetensors, RoundTripIsBitExact) {
  TempDir dir;
  auto params = sample_params();
  // NaN and -0.0 must survive unchanged.
  params.emplace("specials", mx::array({NAN, -0.0f, INFINITY}));
  mlxt::save_safetensors_file(dir / "a.safetensors", params, {{"k", "v"}});
  auto loaded = mlxt::load_safetensors_file(dir / "a.safetensors");
  expect_bit_identical(params, loaded);

  mlxt::save_safetensors_file(dir / "b.safetensors", loaded, {{"k", "v"}});
  auto reloaded = mlxt::load_safetensors_file(dir / "b.safetensors");
  expect_bit_identical(params, reloaded);
  // Layout is deterministic: load -> save gives the same file.
  EXPECT_EQ(read_file(dir / "a.safetensors"), read_file(dir / "b.safetensors"));
}

TEST(Safetensors, SameParamsGiveSameBytes) {
  TempDir dir;
  auto params = sample_params();
  mlxt::save_safetensors_file(dir / "a.safetensors", params);
  mlxt::save_safetensors_file(dir / "b.safetensors", params);
  EXPECT_EQ(read_file(dir / "a.safetensors"), read_file(dir / "b.safetensors"));
}

TEST(Safetensors, HeaderListsTensorsAndMetadata) {
  TempDir dir;
  mlxt::save_safetensors_file(
      dir / "m.safetensors", sample_params(), {{"format", "mlx"}});
  auto header = mlxt::read_safetensors_header(dir / "m.safetensors");
  EXPECT_EQ(header.metadata.at("format"), "mlx");
  ASSERT_EQ(header.tensors.size(), 6u);
  uint64_t covered = 0;
  for (const auto& t : header.tensors) {
    covered += t.end - t.begin;
    if (t.name == "model.embed.weight") {
      EXPECT_EQ(t.dtype, "F32");
      EXPECT_EQ(t.shape, (std::vector<int64_t>{2, 3}));
      EXPECT_EQ(t.end - t.begin, 24u);
    }
    if (t.name == "lm_head.weight") {
      EXPECT_EQ(t.dtype, "BF16");
    }
  }
  // 24 + 8 + 8 + 20 + 3 + 2 bytes, no gaps.
  EXPECT_EQ(covered, 65u);
}

TEST(Safetensors, SaveReplacesAndLeavesNoTemporaries) {
  TempDir dir;
  auto file = dir / "w.safetensors";
  mlxt::save_safetensors_file(file, {{"x", mx::array({1.0f, 2.0f})}});
  mlxt::save_safetensors_file(file, {{"y", mx::array({3, 4, 5})}});
  auto loaded = mlxt::load_safetensors_file(file);
  ASSERT_EQ(mlxt::param_names(loaded), std::vector<std::string>{"y"});
  int entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir.path())) {
    ++entries;
  }
  EXPECT_EQ(entries, 1);
}

TEST(Safetensors, SaveWithoutSuffixKeepsTheGivenName) {
  TempDir dir;
  mlxt::save_safetensors_file(dir / "weights.bin2", {{"x", mx::array({1})}});
  EXPECT_TRUE(fs::exists(dir / "weights.bin2"));
  EXPECT_EQ(mlxt::load_safetensors_file(dir / "weights.bin2").size(), 1u);
}

TEST(Safetensors, LoadsAHandWrittenFile) {
  TempDir dir;
  // (2,) F32 = [1.0, -2.0] and (1,) I16 = [7], with metadata and padding.
  std::string header =
      R"({"__metadata__":{"a":"b"},)"
      R"("x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
      R"("y":{"dtype":"I16","shape":[1],"data_offsets":[8,10]}}  )";
  std::string bytes = safetensors_bytes(header, 0);
  float xs[2] = {1.0f, -2.0f};
  int16_t y = 7;
  bytes.append(reinterpret_cast<const char*>(xs), sizeof(xs));
  bytes.append(reinterpret_cast<const char*>(&y), sizeof(y));
  write_file(dir / "h.safetensors", bytes);
  auto params = mlxt::load_safetensors_file(dir / "h.safetensors");
  EXPECT_TRUE(
      mx::array_equal(params.at("x"), mx::array({1.0f, -2.0f})).item<bool>());
  EXPECT_EQ(params.at("y").dtype(), mx::int16);
  EXPECT_EQ(params.at("y").item<int16_t>(), 7);
}

// --- bad files -------------------------------------------------------------

TEST(SafetensorsErrors, MissingFile) {
  TempDir dir;
  EXPECT_MLXT_ERROR(mlxt::read_safetensors_header(dir / "none.safetensors"),
                    not_found,
                    "does not exist");
}

TEST(SafetensorsErrors, TruncatedFile) {
  TempDir dir;
  write_file(dir / "t.safetensors", std::string("\x05\x00\x00", 3));
  EXPECT_MLXT_ERROR(mlxt::load_safetensors_file(dir / "t.safetensors"),
                    invalid_model,
                    "truncated: the file has 3 bytes");
}

TEST(SafetensorsErrors, HeaderLengthBeyondFile) {
  TempDir dir;
  std::string bytes = safetensors_bytes("{}", 0);
  bytes[0] = 100; // claims 100 header bytes, 2 follow
  write_file(dir / "l.safetensors", bytes);
  EXPECT_MLXT_ERROR(mlxt::load_safetensors_file(dir / "l.safetensors"),
                    invalid_model,
                    "header length 100 exceeds the 2 bytes after it");
}

TEST(SafetensorsErrors, ZeroHeaderLength) {
  TempDir dir;
  write_file(dir / "z.safetensors", std::string(8, '\0'));
  EXPECT_MLXT_ERROR(mlxt::load_safetensors_file(dir / "z.safetensors"),
                    invalid_model,
                    "header length 0; expected 1 to 99999999");
}

TEST(SafetensorsErrors, HeaderNotJson) {
  TempDir dir;
  auto file = write_safetensors(dir, "{\"a\": nope}", 0);
  EXPECT_MLXT_ERROR(mlxt::load_safetensors_file(file),
                    invalid_model,
                    "header is not valid JSON");
}

TEST(SafetensorsErrors, HeaderNotAnObject) {
  TempDir dir;
  auto file = write_safetensors(dir, "[1, 2]", 0);
  EXPECT_MLXT_ERROR(mlxt::load_safetensors_file(file),
                    invalid_model,
                    "header is a JSON array; expected an object");
}

TEST(SafetensorsErrors, MetadataValueNotString) {
  TempDir dir;
  auto file = write_safetensors(dir, R"({"__metadata__":{"step":3}})", 0);
  EXPECT_MLXT_ERROR(
      mlxt::load_safetensors_file(file),
      invalid_model,
      "__metadata__.step: is a JSON number; metadata values must be strings");
}

TEST(SafetensorsErrors, MetadataNotObject) {
  TempDir dir;
  auto file = write_safetensors(dir, R"({"__metadata__":"x"})", 0);
  EXPECT_MLXT_ERROR(
      mlxt::load_safetensors_file(file),
      invalid_model,
      "__metadata__: is a JSON string; expected an object of strings");
}

TEST(SafetensorsErrors, TensorEntryNotObject) {
  TempDir dir;
  auto file = write_safetensors(dir, R"({"w":[1]})", 0);
  EXPECT_MLXT_ERROR(mlxt::load_safetensors_file(file),
                    invalid_model,
                    "w: is a JSON array; expected an object");
}

TEST(SafetensorsErrors, MissingField) {
  TempDir dir;
  auto file = write_safetensors(dir, R"({"w":{"dtype":"F32","shape":[1]}})", 4);
  EXPECT_MLXT_ERROR(mlxt::load_safetensors_file(file),
                    invalid_model,
                    "w: has no \"data_offsets\" field");
}

TEST(SafetensorsErrors, UnknownDtype) {
  TempDir dir;
  auto file = write_safetensors(
      dir, R"({"w":{"dtype":"Q4","shape":[2],"data_offsets":[0,1]}})", 1);
  EXPECT_MLXT_ERROR(mlxt::load_safetensors_file(file),
                    invalid_model,
                    "w: unknown dtype \"Q4\"; expected one of BOOL, U8");
}

TEST(SafetensorsErrors, F64Unsupported) {
  TempDir dir;
  auto file = write_safetensors(
      dir, R"({"w":{"dtype":"F64","shape":[2],"data_offsets":[0,16]}})", 16);
  EXPECT_MLXT_ERROR(mlxt::load_safetensors_file(file),
                    unsupported,
                    "w: dtype F64 is not supported");
}

TEST(SafetensorsErrors, Float8Unsupported) {
  TempDir dir;
  auto file = write_safetensors(
      dir, R"({"w":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]}})", 2);
  EXPECT_MLXT_ERROR(mlxt::load_safetensors_file(file),
                    unsupported,
                    "dtype F8_E4M3 is not supported");
}

TEST(SafetensorsErrors, NegativeShape) {
  TempDir dir;
  auto file = write_safetensors(
      dir, R"({"w":{"dtype":"F32","shape":[2,-3],"data_offsets":[0,0]}})", 0);
  EXPECT_MLXT_ERROR(mlxt::load_safetensors_file(file),
                    invalid_model,
                    "w: shape[1] is -3; expected a non-negative integer");
}

TEST(SafetensorsErrors, NonIntegerShape) {
  TempDir dir;
  auto file = write_safetensors(
      dir, R"({"w":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}})", 8);
  EXPECT_MLXT_ERROR(mlxt::load_safetensors_file(file),
                    invalid_model,
                    "w: shape[0] is 2.5; expected a non-negative integer");
}

TEST(SafetensorsErrors, ShapeNotArray) {
  TempDir dir;
  auto file = write_safetensors(
      dir, R"({"w":{"dtype":"F32","shape":4,"data_offsets":[0,16]}})", 16);
  EXPECT_MLXT_ERROR(mlxt::load_safetensors_file(file),
                    invalid_model,
                    "w: shape is a JSON number; expected an array");
}

TEST(SafetensorsErrors, OffsetsBeyondData) {
  TempDir dir;
  auto file = write_safetensors(
      dir, R"({"w":{"dtype":"F32","shape":[16],"data_offsets":[0,64]}})", 16);
  EXPECT_MLXT_ERROR(
      mlxt::load_safetensors_file(file),
      invalid_model,
      "w: data_offsets [0, 64] reach beyond the data section of 16 bytes");
}

TEST(SafetensorsErrors, OffsetsReversed) {
  TempDir dir;
  auto file = write_safetensors(
      dir, R"({"w":{"dtype":"F32","shape":[0],"data_offsets":[8,4]}})", 8);
  EXPECT_MLXT_ERROR(
      mlxt::load_safetensors_file(file), invalid_model, "has begin > end");
}

TEST(SafetensorsErrors, OffsetsMalformed) {
  TempDir dir;
  auto file = write_safetensors(
      dir, R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}})", 8);
  EXPECT_MLXT_ERROR(mlxt::load_safetensors_file(file),
                    invalid_model,
                    "data_offsets is [-4,0]; expected [begin, end]");
}

TEST(SafetensorsErrors, SizeMismatchWithShape) {
  TempDir dir;
  auto file = write_safetensors(
      dir, R"({"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,16]}})", 16);
  EXPECT_MLXT_ERROR(mlxt::load_safetensors_file(file),
                    invalid_model,
                    "w: shape [2, 3] of F32 needs 24 bytes, but data_offsets "
                    "[0, 16] span 16");
}

TEST(SafetensorsErrors, OverlappingTensors) {
  TempDir dir;
  auto file = write_safetensors(
      dir,
      R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},)"
      R"("b":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}})",
      24);
  EXPECT_MLXT_ERROR(mlxt::load_safetensors_file(file),
                    invalid_model,
                    "b: data_offsets [8, 24] overlap tensor \"a\" at [0, 16]");
}

TEST(SafetensorsErrors, ShapeOverflow) {
  TempDir dir;
  auto file = write_safetensors(
      dir,
      R"({"w":{"dtype":"F32","shape":[1099511627776,1099511627776],)"
      R"("data_offsets":[0,0]}})",
      0);
  EXPECT_MLXT_ERROR(
      mlxt::load_safetensors_file(file),
      invalid_model,
      "shape [1099511627776, 1099511627776] of F32 overflows a 64-bit byte "
      "count");
}

TEST(SafetensorsErrors, DimensionBeyondMlxLimit) {
  TempDir dir;
  // 2^31 bool elements with a zero dimension: 0 bytes, but not an MLX shape.
  auto file = write_safetensors(
      dir,
      R"({"w":{"dtype":"BOOL","shape":[0,2147483648],"data_offsets":[0,0]}})",
      0);
  EXPECT_MLXT_ERROR(
      mlxt::load_safetensors_file(file), unsupported, "above 2^31 - 1");
}

TEST(SafetensorsErrors, DuplicateTensorName) {
  TempDir dir;
  auto file = write_safetensors(
      dir,
      R"({"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
      R"("w":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})",
      2);
  EXPECT_MLXT_ERROR(
      mlxt::load_safetensors_file(file), invalid_model, "w: appears twice");
}

TEST(SafetensorsErrors, ErrorNamesTheFile) {
  TempDir dir;
  auto file = write_safetensors(dir, "[]", 0);
  EXPECT_MLXT_ERROR(mlxt::load_safetensors_file(file),
                    invalid_model,
                    file.string() + ": header is a JSON array");
}

TEST(SafetensorsErrors, SaveRejectsFloat64) {
  TempDir dir;
  EXPECT_MLXT_ERROR(
      mlxt::save_safetensors_file(dir / "f.safetensors",
                                  {{"w", mx::array({1.0f}, mx::float64)}}),
      unsupported,
      "w: cannot save an array of this dtype");
}

TEST(SafetensorsErrors, SaveRejectsEmptyArray) {
  TempDir dir;
  EXPECT_MLXT_ERROR(mlxt::save_safetensors_file(dir / "e.safetensors",
                                                {{"w", mx::zeros({0, 3})}}),
                    unsupported,
                    "w: cannot save an empty array (shape [0, 3])");
}

} // namespace

// Safetensors files against Python MLX (the reference venv): files written
// here are byte-identical to Python mx.save_safetensors of a name-sorted dict,
// and files written by Python load here bit-exactly. Skipped without the venv.
#include "mlxt/core/safetensors.h"
#include "support/test_support.h"

namespace {

namespace mx = mlx::core;
using mlxt::testing::have_reference_python;
using mlxt::testing::read_file;
using mlxt::testing::reference_python;
using mlxt::testing::run_command;
using mlxt::testing::TempDir;

// 60 tensors "block.<i>.w": (3, 5) of f32, f16, bf16 or int32 by i % 4, with
// values arange(15) + i, so Python can rebuild them.
mlxt::Params arange_params() {
  const mx::Dtype dtypes[] = {
      mx::float32, mx::float16, mx::bfloat16, mx::int32};
  mlxt::Params params;
  for (int i = 0; i < 60; ++i) {
    auto values = mx::reshape(mx::add(mx::arange(15), mx::array(i)), {3, 5});
    params.emplace("block." + std::to_string(i) + ".w",
                   mx::astype(values, dtypes[i % 4]));
  }
  return params;
}

TEST(SafetensorsParity, SameBytesAsPythonSortedSave) {
  if (!have_reference_python()) {
    GTEST_SKIP() << "no reference python at " << reference_python();
  }
  TempDir dir;
  mlxt::save_safetensors_file(
      dir / "cpp.safetensors", arange_params(), {{"format", "mlx"}});
  std::string script =
      "import sys, mlx.core as mx\n"
      "d = mx.load(sys.argv[1])\n"
      "mx.save_safetensors(sys.argv[2], {k: d[k] for k in sorted(d)},"
      " {'format': 'mlx'})\n";
  auto result = run_command({reference_python(),
                             "-c",
                             script,
                             (dir / "cpp.safetensors").string(),
                             (dir / "py.safetensors").string()});
  ASSERT_EQ(result.exit_code, 0) << result.output;
  EXPECT_EQ(read_file(dir / "cpp.safetensors"),
            read_file(dir / "py.safetensors"));
}

TEST(SafetensorsParity, PythonFileLoadsBitExact) {
  if (!have_reference_python()) {
    GTEST_SKIP() << "no reference python at " << reference_python();
  }
  TempDir dir;
  // Written in reverse name order, so its layout differs from ours.
  std::string script =
      "import sys, mlx.core as mx\n"
      "types = [mx.float32, mx.float16, mx.bfloat16, mx.int32]\n"
      "d = {f'block.{i}.w': (mx.arange(15) + i).reshape(3, 5).astype("
      "types[i % 4]) for i in reversed(range(60))}\n"
      "mx.save_safetensors(sys.argv[1], d)\n";
  auto result = run_command(
      {reference_python(), "-c", script, (dir / "py.safetensors").string()});
  ASSERT_EQ(result.exit_code, 0) << result.output;
  auto loaded = mlxt::load_safetensors_file(dir / "py.safetensors");
  auto expected = arange_params();
  ASSERT_EQ(mlxt::param_names(loaded), mlxt::param_names(expected));
  for (const auto& [name, array] : expected) {
    EXPECT_EQ(loaded.at(name).dtype(), array.dtype()) << name;
    EXPECT_TRUE(mx::array_equal(loaded.at(name), array).item<bool>()) << name;
  }
}

} // namespace

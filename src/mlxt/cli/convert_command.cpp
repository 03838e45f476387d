// mlxt convert --from_gguf FILE --out DIR [--dequantize] [--dtype f32]
#include <iostream>
#include <unistd.h>

#include "mlxt/cli/commands.h"
#include "mlxt/core/error.h"
#include "mlxt/gguf/import.h"

namespace mlxt::cli {

namespace fs = std::filesystem;

namespace {

mx::Dtype dtype_named(const std::string& name) {
  if (name == "f32" || name == "float32") {
    return mx::float32;
  }
  if (name == "bf16" || name == "bfloat16") {
    return mx::bfloat16;
  }
  return mx::float16;
}

} // namespace

void add_convert_command(CLI::App& app) {
  struct Options {
    std::string gguf, out, dtype;
    bool dequantize = false;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "convert",
      "Convert a GGUF file into a model folder (MLX-quantized layout, or "
      "dequantized Hugging Face layout) that mlxt and mlx-lm load");
  cmd->add_option("--from_gguf", o->gguf, "The .gguf file")->required();
  cmd->add_option("-o,--out", o->out, "New model folder")->required();
  cmd->add_flag("--dequantize",
                o->dequantize,
                "Write dense weights instead of quantized ones");
  cmd->add_option("--dtype",
                  o->dtype,
                  "Dtype of every float tensor (norms, scales, dense "
                  "weights); default: as stored (f16 scales, f32 norms)")
      ->check(CLI::IsMember({"f16", "bf16", "f32"}));
  cmd->callback([o] {
    const fs::path out = o->out;
    if (fs::exists(out)) {
      fail(ErrorCode::invalid_config,
           "the output folder already exists; remove it or choose another",
           {.file = out.string(), .key = "--out"});
    }
    gguf::ImportOptions options{.dequantize = o->dequantize};
    if (!o->dtype.empty()) {
      options.dtype = dtype_named(o->dtype);
    }
    gguf::ImportedModel m = gguf::import_gguf(o->gguf, options);
    // Written beside the target and renamed at the end, so a failed
    // conversion leaves no half-written model folder.
    const fs::path temp =
        out.parent_path() /
        ("." + out.filename().string() + ".tmp-" + std::to_string(::getpid()));
    try {
      gguf::save_imported(temp, m);
      fs::rename(temp, out);
    } catch (...) {
      std::error_code ignored;
      fs::remove_all(temp, ignored);
      throw;
    }
    std::cout << "wrote " << out.string() << " ("
              << (m.model.args.quantization ? "MLX-quantized" : "dense") << ", "
              << m.model.weights.size() << " tensors)" << std::endl;
  });
}

} // namespace mlxt::cli

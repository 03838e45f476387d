#include "mlxt/gguf/import.h"

#include "mlxt/core/atomic_file.h"
#include "mlxt/core/error.h"
#include "mlxt/gguf/file_check.h"
#include "mlxt/gguf/llama_import.h"

namespace mlxt::gguf {

namespace fs = std::filesystem;

namespace {

// Replaces each quantized triple by its dense matrix. The scales go to fp32
// first, so `scale * q + bias` is computed as llama.cpp computes it.
void dequantize_all(models::Model& m) {
  const int group = m.args.quantization->group_size;
  Params dense;
  for (const auto& [name, w] : m.weights) {
    if (!name.ends_with(".weight")) {
      continue;
    }
    const std::string layer = name.substr(0, name.size() - 7);
    auto scales = m.weights.find(layer + ".scales");
    if (scales == m.weights.end()) {
      dense.insert_or_assign(name, w);
      continue;
    }
    dense.insert_or_assign(
        name,
        mx::dequantize(
            w,
            mx::astype(scales->second, mx::float32),
            mx::astype(param(m.weights, layer + ".biases"), mx::float32),
            group,
            m.args.quantization->bits_for(layer)));
  }
  for (const auto& [name, w] : m.weights) {
    if (!name.ends_with(".weight") && !name.ends_with(".scales") &&
        !name.ends_with(".biases")) {
      dense.insert_or_assign(name, w);
    }
  }
  m.weights = std::move(dense);
  m.args.quantization.reset();
  m.args.config.erase("quantization");
}

} // namespace

bool is_gguf_path(const fs::path& path) {
  return path.extension() == ".gguf";
}

ImportedModel import_gguf(const fs::path& path, const ImportOptions& options) {
  const FileInfo info = check_gguf_file(path);
  mx::GGUFLoad loaded;
  try {
    loaded = mx::load_gguf(path.string());
  } catch (const std::exception& e) {
    fail(ErrorCode::invalid_model,
         std::string("MLX could not read the GGUF file: ") + e.what(),
         {.file = path.string()});
  }
  const Metadata meta(std::move(loaded.second), path.string());
  ImportedModel out;
  out.tokenizer = tokenizer_files(meta);
  const nlohmann::json config = llama_config(meta, info);
  out.model.args = models::parse_model_args(config, path.string());
  out.model.weights = models::check_weights(
      out.model.args,
      llama_weights(std::move(loaded.first), out.model.args, path.string()),
      path.string());
  if (options.dequantize && out.model.args.quantization) {
    dequantize_all(out.model);
  }
  if (options.dtype) {
    for (auto& [name, w] : out.model.weights) {
      if (mx::issubdtype(w.dtype(), mx::floating)) {
        w = mx::astype(w, *options.dtype);
      }
    }
  }
  return out;
}

void save_imported(const fs::path& dir, const ImportedModel& m) {
  models::save_model(dir, m.model);
  write_file_atomic(dir / "tokenizer.json",
                    m.tokenizer.tokenizer.dump() + "\n");
  write_file_atomic(dir / "tokenizer_config.json",
                    m.tokenizer.tokenizer_config.dump(2) + "\n");
}

} // namespace mlxt::gguf

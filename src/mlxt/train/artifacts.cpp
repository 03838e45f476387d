#include "mlxt/train/artifacts.h"

#include "mlxt/core/atomic_file.h"
#include "mlxt/core/error.h"
#include "mlxt/core/safetensors.h"

namespace mlxt::train {

namespace fs = std::filesystem;

void save_adapters(const fs::path& dir,
                   const Params& adapters,
                   const LoraSpec& spec,
                   const nlohmann::json& run_config,
                   const std::string& file_name) {
  fs::create_directories(dir);
  save_safetensors_file(dir / file_name, adapters);
  write_file_atomic(dir / "adapter_config.json",
                    adapter_config_json(spec, run_config).dump(2) + "\n");
}

void copy_tokenizer_files(const fs::path& from, const fs::path& to) {
  for (const char* name : {"tokenizer.json",
                           "tokenizer_config.json",
                           "special_tokens_map.json",
                           "tokenizer.model",
                           "generation_config.json",
                           "chat_template.jinja"}) {
    if (fs::exists(from / name)) {
      std::error_code ec;
      fs::copy_file(
          from / name, to / name, fs::copy_options::overwrite_existing, ec);
      if (ec) {
        fail(ErrorCode::io,
             "cannot copy: " + ec.message(),
             {.file = (from / name).string()});
      }
    }
  }
}

void save_full_model(const fs::path& dir,
                     const models::Model& model,
                     const fs::path& tokenizer_dir) {
  models::save_model(dir, model);
  if (fs::absolute(dir) != fs::absolute(tokenizer_dir)) {
    copy_tokenizer_files(tokenizer_dir, dir);
  }
}

} // namespace mlxt::train

#include "mlxt/cli/loaded_model.h"

#include "mlxt/gguf/model_source.h"
#include "mlxt/train/lora.h"

namespace mlxt::cli {

LoadedModel load_for_inference(const std::string& model_dir,
                               const std::string& adapter_dir) {
  auto [model, tokenizer] = gguf::open_model(model_dir);
  LoadedModel m{std::move(model), std::move(tokenizer), {}};
  add_adapters(m, adapter_dir);
  return m;
}

void add_adapters(LoadedModel& m, const std::string& adapter_dir) {
  if (adapter_dir.empty()) {
    return;
  }
  train::LoraSpec spec = train::read_adapter_config(adapter_dir);
  for (auto& [name, value] :
       train::load_adapters(adapter_dir, m.model.args, m.model.weights)) {
    m.model.weights.insert_or_assign(name, value);
  }
  m.ctx.lora_scale = spec.scale;
}

std::vector<int> encode_prompt(const LoadedModel& m,
                               const std::string& prompt,
                               const std::string& system,
                               bool raw) {
  if (raw || !m.tokenizer.has_chat_template()) {
    return m.tokenizer.encode(prompt, true);
  }
  std::vector<tokenizer::ChatMessage> messages;
  if (!system.empty()) {
    messages.push_back({"system", system});
  }
  messages.push_back({"user", prompt});
  return m.tokenizer.encode(m.tokenizer.apply_chat_template(messages, true),
                            false);
}

} // namespace mlxt::cli

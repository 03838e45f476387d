#include "mlxt/train/memory_estimate.h"

#include <cmath>
#include <map>
#include <sstream>

#include "mlxt/core/error.h"
#include "mlxt/core/json_file.h"
#include "mlxt/core/safetensors.h"
#include "mlxt/models/args.h"

namespace mlxt::train {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
// The share of the memory a plan may use: the rest is the allocator's
// slack, the runtime and the data pipeline.
constexpr double kBudgetShare = 0.9;

int dtype_bytes(const std::string& dtype) {
  return dtype == "float32" || dtype == "F32" ? 4 : 2;
}

std::string gib(double bytes) {
  std::ostringstream out;
  out.precision(bytes < 10 * kGiB ? 2 : 1);
  out << std::fixed << bytes / kGiB << " GiB";
  return out.str();
}

// Sum over the adapted matrices of one block of (inputs + outputs): q, k,
// v, o, gate, up and down, every linear of the block (the LoRA default).
double lora_width(const ModelShape& m) {
  const double q = double(m.heads) * m.head_dim;
  const double kv = double(m.kv_heads) * m.head_dim;
  return (m.hidden + q) * 2 + (m.hidden + kv) * 2 +
         3.0 * (m.hidden + m.intermediate);
}

// The one table between plan methods and their names.
constexpr std::pair<PlanMethod, const char*> kPlanMethods[] = {
    {PlanMethod::full, "full"},
    {PlanMethod::lora, "lora"},
    {PlanMethod::qlora, "qlora"}};

int optimizer_states(const std::string& optimizer) {
  if (optimizer == "sgd" || optimizer == "lion") {
    return 1;
  }
  return 2; // adamw, adam, lamb, novograd; adafactor's factors are smaller
}

} // namespace

const char* plan_method_name(PlanMethod method) {
  for (const auto& [m, name] : kPlanMethods) {
    if (m == method) {
      return name;
    }
  }
  return "lora";
}

std::optional<PlanMethod> plan_method_from_name(const std::string& name) {
  for (const auto& [m, n] : kPlanMethods) {
    if (name == n) {
      return m;
    }
  }
  return std::nullopt;
}

double ModelShape::parameters() const {
  const double q = double(heads) * head_dim;
  const double kv = double(kv_heads) * head_dim;
  const double block = hidden * q * 2 + hidden * kv * 2 +
                       3.0 * hidden * intermediate + 2.0 * hidden;
  return double(vocab) * hidden * (tied_embeddings ? 1 : 2) + layers * block +
         hidden;
}

ModelShape model_shape(const fs::path& dir) {
  const json config = read_json_file(dir / "config.json");
  const models::ModelArgs a =
      models::parse_model_args(config, (dir / "config.json").string());
  ModelShape m{.layers = a.num_hidden_layers,
               .hidden = a.hidden_size,
               .intermediate = a.intermediate_size,
               .heads = a.num_attention_heads,
               .kv_heads = a.num_key_value_heads,
               .head_dim = a.head_dim,
               .vocab = a.vocab_size,
               .tied_embeddings = a.tie_word_embeddings,
               .max_positions = a.max_position_embeddings};
  if (a.quantization) {
    m.quantized_bits = a.quantization->bits;
    m.group_size = a.quantization->group_size;
  }
  // The stored dtype: the one most weights have.
  std::map<std::string, double> by_dtype;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == ".safetensors") {
      for (const auto& t : read_safetensors_header(entry.path()).tensors) {
        double n = 1;
        for (auto d : t.shape) {
          n *= d;
        }
        by_dtype[t.dtype] += n;
      }
    }
  }
  std::string dtype = config.value("torch_dtype", "float32");
  double most = -1;
  for (const auto& [name, n] : by_dtype) {
    if (name != "U32" && n > most) { // U32: packed quantized weights
      dtype = name;
      most = n;
    }
  }
  m.weight_bytes = dtype_bytes(dtype);
  return m;
}

MemoryEstimate estimate_memory(const ModelShape& m, const TrainPlan& p) {
  MemoryEstimate e;
  const double params = m.parameters();
  const double c = dtype_bytes(p.compute_dtype);
  const int bits = m.quantized_bits > 0 ? m.quantized_bits : p.quantize_bits;
  const int lora_layers =
      p.lora_layers < 0 ? m.layers : std::min(p.lora_layers, m.layers);
  if (p.method == PlanMethod::full) {
    e.weights = params * 4 + (c < 4 ? params * c : 0.0);
    e.trainable_parameters = params;
  } else {
    e.weights = p.method == PlanMethod::qlora
                    ? params * (bits / 8.0 + 2.0 * 2.0 / m.group_size)
                    : params * m.weight_bytes;
    e.trainable_parameters = double(p.lora_rank) * lora_width(m) * lora_layers;
  }
  e.gradients = e.trainable_parameters * 4;
  e.optimizer_state =
      e.trainable_parameters * 4 * optimizer_states(p.optimizer);
  const double tokens = double(p.batch_size) * p.seq_len;
  // Attention probabilities per token and layer; none with fused attention.
  const double probs =
      p.fused_attention ? 0.0 : double(m.heads) * double(p.seq_len);
  const double layer = 7.0 * m.hidden + 2.0 * m.kv_heads * m.head_dim +
                       5.0 * m.intermediate + probs;
  const double working_set = 36.0 * m.hidden + 2.0 * probs;
  const int kept_layers = p.method == PlanMethod::full ? m.layers : lora_layers;
  e.activations =
      tokens * c *
      (p.grad_checkpoint ? double(kept_layers) * m.hidden + layer + working_set
                         : double(kept_layers) * layer + working_set);
  e.logits = tokens * m.vocab * 3 * c;
  return e;
}

json MemoryEstimate::to_json() const {
  auto part = [](double bytes) {
    return json{{"bytes", std::llround(bytes)}, {"gib", bytes / kGiB}};
  };
  return {{"weights", part(weights)},
          {"gradients", part(gradients)},
          {"optimizer_state", part(optimizer_state)},
          {"activations", part(activations)},
          {"logits", part(logits)},
          {"total", part(total())},
          {"trainable_parameters", std::llround(trainable_parameters)}};
}

json AutoConfig::to_json() const {
  return {
      {"method", plan_method_name(plan.method)},
      {"lora_rank",
       plan.method == PlanMethod::full ? json(nullptr) : json(plan.lora_rank)},
      {"batch_size", plan.batch_size},
      {"max_seq_length", plan.seq_len},
      {"compute_dtype", plan.compute_dtype},
      {"grad_checkpoint", plan.grad_checkpoint},
      {"quantization", quantization},
      {"estimated_peak_memory", estimate.to_json()},
      {"reasoning", reasoning}};
}

AutoConfig suggest_config(const ModelShape& model,
                          long p95_length,
                          double memory_bytes,
                          int pad_multiple,
                          bool gpu) {
  AutoConfig out;
  const double budget = memory_bytes * kBudgetShare;
  long seq = std::max<long>(p95_length, 1);
  seq = (seq + pad_multiple - 1) / pad_multiple * pad_multiple;
  if (model.max_positions > 0 && seq > model.max_positions) {
    seq = std::max<long>(model.max_positions / pad_multiple * pad_multiple,
                         pad_multiple);
    out.reasoning.push_back("the data's p95 length " +
                            std::to_string(p95_length) +
                            " exceeds the model's context; sequences are cut "
                            "to " +
                            std::to_string(seq));
  } else {
    out.reasoning.push_back(
        "sequence length " + std::to_string(seq) + ": the data's p95 of " +
        std::to_string(p95_length) + " tokens rounded up to a multiple of " +
        std::to_string(pad_multiple) + (gpu ? " (GPU)" : " (CPU)"));
  }
  const std::string dtype = gpu ? "bfloat16" : "float32";
  out.reasoning.push_back(
      gpu ? "bfloat16 compute with float32 master weights: half the "
            "activation memory, full-precision updates"
          : "float32 compute: on a CPU, fp32 matrix products are the fast "
            "ones");
  out.reasoning.push_back("budget " + gib(budget) + " (90% of " +
                          gib(memory_bytes) + ")");
  if (gpu) {
    // bench/results/2026-11-25-memory-estimate-calibration.md
    out.reasoning.push_back(
        "caution: the estimate is calibrated on float32 CPU runs (within "
        "5%); bfloat16 GPU runs on record peaked up to 1.8x above it, so "
        "leave headroom or check the first steps' peak_memory_gb");
  }

  struct Candidate {
    PlanMethod method;
    int rank;
    bool checkpoint;
    int min_batch;

    TrainPlan
    plan(int batch, long seq, const std::string& dtype, bool gpu) const {
      return {.method = method,
              .lora_rank = rank,
              .batch_size = batch,
              .seq_len = static_cast<int>(seq),
              .compute_dtype = dtype,
              .grad_checkpoint = checkpoint,
              .fused_attention = gpu};
    }
    // "lora rank 8 with gradient checkpointing, batch 2"
    std::string describe(int batch) const {
      return plan_method_name(method) +
             (method == PlanMethod::full ? std::string()
                                         : " rank " + std::to_string(rank)) +
             (checkpoint ? " with gradient checkpointing" : "") + ", batch " +
             std::to_string(batch);
    }
  };
  std::vector<Candidate> candidates;
  if (model.quantized_bits == 0) {
    candidates = {{PlanMethod::full, 0, false, 4},
                  {PlanMethod::lora, 16, false, 4},
                  {PlanMethod::lora, 8, false, 1},
                  {PlanMethod::lora, 8, true, 1}};
  } else {
    out.reasoning.push_back("the model is already quantized to " +
                            std::to_string(model.quantized_bits) +
                            " bits: only QLoRA trains it");
  }
  candidates.push_back({PlanMethod::qlora, 8, false, 1});
  candidates.push_back({PlanMethod::qlora, 8, true, 1});
  for (const Candidate& cand : candidates) {
    for (int batch : {16, 8, 4, 2, 1}) {
      if (batch < cand.min_batch) {
        break;
      }
      const TrainPlan plan = cand.plan(batch, seq, dtype, gpu);
      const MemoryEstimate e = estimate_memory(model, plan);
      if (e.total() <= budget) {
        out.plan = plan;
        out.estimate = e;
        out.quantization =
            cand.method == PlanMethod::qlora
                ? std::to_string(model.quantized_bits ? model.quantized_bits
                                                      : plan.quantize_bits) +
                      "-bit affine, group " + std::to_string(model.group_size) +
                      (model.quantized_bits ? "" : " (quantize the base first)")
                : "none";
        out.reasoning.push_back(cand.describe(batch) + ": " + gib(e.total()) +
                                " fits");
        return out;
      }
    }
    const TrainPlan smallest = cand.plan(cand.min_batch, seq, dtype, gpu);
    out.reasoning.push_back(cand.describe(cand.min_batch) + " needs " +
                            gib(estimate_memory(model, smallest).total()) +
                            ": too much");
  }
  std::string why;
  for (const std::string& r : out.reasoning) {
    why += "\n" + r;
  }
  fail(ErrorCode::invalid_config,
       "memory: nothing fits in " + gib(memory_bytes) +
           ", not even QLoRA with batch 1 and gradient checkpointing" + why,
       {.key = "memory"});
}

} // namespace mlxt::train

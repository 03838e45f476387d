// Peak-memory estimate of a training run and the automatic configuration
// built on it (POST /v1/auto-config): method (full / lora / qlora), LoRA
// rank, batch size, sequence length, quantization and precision for the
// memory available.
//
// The estimate adds what a step keeps alive at its peak, in bytes (P
// parameters, T trainable ones, H hidden, Hkv = kv heads * head dim, I
// intermediate, nH heads, V vocabulary, L layers, B batch, S sequence
// length, c compute bytes, La the layers whose activations the backward
// pass needs: all for full fine-tuning, the LoRA layers otherwise):
//   weights      full: P*4 (fp32 master) + P*c when computing in c < 4;
//                lora: P*w (as stored); qlora: P*(bits/8 + 2*2/g)
//   gradients    T*4
//   optimizer    T*4*s, s = state arrays per parameter (adamw 2, sgd/lion 1)
//   activations  B*S*c*(La*(7H + 2Hkv + 5I + nH*S) + 36H + 2*nH*S)
//     per layer kept for the backward pass: the block input and the two
//     norm outputs, the scaled queries, the attention output, the
//     residual sum (7H); keys and values (2Hkv); gate, its sigmoid and
//     SiLU, up, and their product (5I); the attention probabilities
//     (nH*S). Once: the backward's working set at its peak, the gradients
//     flowing through the top layer (36H, measured) and one layer's
//     probability and score gradients (2*nH*S). With fused attention
//     (GPU) no (S, S) array is kept: the nH*S terms drop. With gradient
//     checkpointing only each layer's input is kept: La*H plus one
//     layer's worth (7H + 2Hkv + 5I + nH*S) plus the working set.
//   logits       B*S*V*3c: the logits, the softmax of the loss's backward
//                and the logits' gradient, all in the compute dtype
//                (train/loss.cpp makes no float32 copy)
// Calibration (tests/e2e/memory_estimate_e2e_test.cpp checks it): MLX's
// peak_memory of 3-step CPU runs, float32, AdamW, of Llama shapes with H
// 256 and 512, L 4 and 8, I 256 and 768, V 300 and 4096, nH 8, S 64 to
// 448, batch 2 to 8, full and LoRA: the estimate is within 0.97 to 1.04
// of the measured peak. The 36H term and the S terms come from those runs
// (the probabilities scale with La + 2, not 2*La); bfloat16 compute,
// fused GPU attention, QLoRA and checkpointing follow the same terms
// but are not measured yet. It counts arrays, not the allocator's cache.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mlxt::train {

struct ModelShape {
  int layers = 0, hidden = 0, intermediate = 0, heads = 0, kv_heads = 0,
      head_dim = 0, vocab = 0;
  bool tied_embeddings = true;
  int max_positions = 0;  // 0: not given
  int weight_bytes = 4;   // of the stored dense weights (2 for bf16/fp16)
  int quantized_bits = 0; // > 0 when the base is quantized
  int group_size = 64;    // quantization group size
  //! Parameter count from the shapes.
  double parameters() const;
};

//! The shape of the model folder `dir` (config.json; the stored dtype from
//! its safetensors headers, else torch_dtype).
ModelShape model_shape(const std::filesystem::path& dir);

//! What a plan trains: every weight; LoRA adapters over the base as
//! stored; LoRA adapters over a quantized base (QLoRA).
enum class PlanMethod { full, lora, qlora };

//! "full", "lora" or "qlora".
const char* plan_method_name(PlanMethod method);
//! The method named `name`, if there is one.
std::optional<PlanMethod> plan_method_from_name(const std::string& name);

struct TrainPlan {
  PlanMethod method = PlanMethod::lora;
  int lora_rank = 8;
  int lora_layers = -1; // -1: every layer
  int batch_size = 4;
  int seq_len = 512;
  std::string compute_dtype = "float32"; // float32 | bfloat16 | float16
  bool grad_checkpoint = false;
  std::string optimizer = "adamw";
  int quantize_bits = 4;        // qlora over a base that is not quantized yet
  bool fused_attention = false; // GPU: no (S, S) scores kept per head
};

struct MemoryEstimate {
  double weights = 0, gradients = 0, optimizer_state = 0, activations = 0,
         logits = 0;
  double trainable_parameters = 0;
  double total() const {
    return weights + gradients + optimizer_state + activations + logits;
  }
  nlohmann::json to_json() const; // bytes, and GiB for people
};

MemoryEstimate estimate_memory(const ModelShape& model, const TrainPlan& plan);

struct AutoConfig {
  TrainPlan plan;
  MemoryEstimate estimate;
  std::string quantization; // "none" or "4-bit affine, group 64"
  std::vector<std::string> reasoning;
  nlohmann::json to_json() const;
};

//! The preferred plan that fits 90% of `memory_bytes`: full fine-tuning
//! (batch >= 4), else LoRA rank 16 (batch >= 4), LoRA rank 8, LoRA with
//! gradient checkpointing, then QLoRA; sequences of the data's p95 length
//! rounded up to `pad_multiple`; bfloat16 compute on a GPU, float32 on a
//! CPU (on a GPU the reasoning says the estimate is not calibrated there).
//! Error(invalid_config) when not even QLoRA with batch 1 fits.
AutoConfig suggest_config(const ModelShape& model,
                          long p95_length,
                          double memory_bytes,
                          int pad_multiple,
                          bool gpu);

} // namespace mlxt::train

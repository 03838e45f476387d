// The peak-memory formula's parts and the auto-configuration's decision
// boundaries (train/memory_estimate.h), on a Llama-2-7B-shaped model.
#include "mlxt/train/memory_estimate.h"

#include "support/test_support.h"

namespace {

using namespace mlxt::train;

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

ModelShape llama7b() {
  return {.layers = 32,
          .hidden = 4096,
          .intermediate = 11008,
          .heads = 32,
          .kv_heads = 32,
          .head_dim = 128,
          .vocab = 32000,
          .tied_embeddings = false,
          .max_positions = 4096,
          .weight_bytes = 2};
}

TEST(MemoryEstimate, PartsFollowTheFormula) {
  const ModelShape m = llama7b();
  EXPECT_NEAR(m.parameters() / 1e9, 6.74, 0.01); // Llama 2 7B
  TrainPlan full{.method = PlanMethod::full,
                 .batch_size = 1,
                 .seq_len = 512,
                 .compute_dtype = "bfloat16"};
  const MemoryEstimate f = estimate_memory(m, full);
  EXPECT_DOUBLE_EQ(f.weights, m.parameters() * 6); // fp32 master + bf16
  EXPECT_DOUBLE_EQ(f.gradients, m.parameters() * 4);
  EXPECT_DOUBLE_EQ(f.optimizer_state, m.parameters() * 8); // AdamW m and v
  EXPECT_DOUBLE_EQ(f.logits, 512.0 * 32000 * 3 * 2);
  TrainPlan lora = full;
  lora.method = PlanMethod::lora;
  lora.lora_rank = 8;
  const MemoryEstimate l = estimate_memory(m, lora);
  EXPECT_DOUBLE_EQ(l.weights, m.parameters() * 2);
  // Every linear of every block: r * (in + out) summed.
  EXPECT_DOUBLE_EQ(l.trainable_parameters,
                   8.0 * 32 * (4 * (4096 + 4096) + 3 * (4096 + 11008)));
  TrainPlan qlora = lora;
  qlora.method = PlanMethod::qlora;
  EXPECT_DOUBLE_EQ(estimate_memory(m, qlora).weights,
                   m.parameters() * (0.5 + 4.0 / 64));
  // Per token: 32 layers of (7H + 2Hkv + 5I + nH*S) and the backward's
  // working set 36H + 2*nH*S, in bf16.
  const double layer = 7.0 * 4096 + 2 * 4096 + 5 * 11008 + 32 * 512;
  EXPECT_DOUBLE_EQ(l.activations,
                   512.0 * 2 * (32 * layer + 36 * 4096 + 2 * 32 * 512));
  // Checkpointing keeps each layer's input and one layer's worth.
  TrainPlan ckpt = lora;
  ckpt.grad_checkpoint = true;
  EXPECT_DOUBLE_EQ(estimate_memory(m, ckpt).activations,
                   512.0 * 2 * (32 * 4096 + layer + 36 * 4096 + 2 * 32 * 512));
  // Fused attention keeps no (S, S) probabilities.
  TrainPlan fused = lora;
  fused.fused_attention = true;
  EXPECT_DOUBLE_EQ(l.activations - estimate_memory(m, fused).activations,
                   512.0 * 2 * (32 + 2) * 32 * 512);
}

TEST(MemoryEstimate, PlanMethodNamesRoundTrip) {
  for (PlanMethod m : {PlanMethod::full, PlanMethod::lora, PlanMethod::qlora}) {
    EXPECT_EQ(plan_method_from_name(plan_method_name(m)), m);
  }
  EXPECT_EQ(plan_method_from_name("dora"), std::nullopt);
}

TEST(AutoConfig, MethodFollowsTheMemory) {
  const ModelShape m = llama7b();
  // 7B full fine-tuning with AdamW needs ~18 bytes/parameter: 160 GB fits.
  AutoConfig big = suggest_config(m, 300, 160 * kGiB, 128, true);
  EXPECT_EQ(big.plan.method, PlanMethod::full);
  EXPECT_GE(big.plan.batch_size, 4);
  EXPECT_EQ(big.plan.seq_len, 384);
  EXPECT_EQ(big.plan.compute_dtype, "bfloat16");
  EXPECT_EQ(big.quantization, "none");
  EXPECT_LE(big.estimate.total(), 0.9 * 160 * kGiB);

  AutoConfig mid = suggest_config(m, 300, 40 * kGiB, 128, true);
  EXPECT_EQ(mid.plan.method, PlanMethod::lora);
  EXPECT_EQ(mid.plan.lora_rank, 16);

  AutoConfig small = suggest_config(m, 300, 12 * kGiB, 128, true);
  EXPECT_EQ(small.plan.method, PlanMethod::qlora);
  EXPECT_EQ(small.to_json()["method"], "qlora");
  EXPECT_NE(small.quantization.find("4-bit"), std::string::npos);

  EXPECT_MLXT_ERROR(suggest_config(m, 300, 2 * kGiB, 128, true),
                    invalid_config,
                    "nothing fits");
  // Each decision is explained, rejected plans included.
  EXPECT_GE(small.reasoning.size(), 5u);
}

TEST(AutoConfig, SequenceLengthIsTheP95RoundedToThePadMultiple) {
  const ModelShape m = llama7b();
  EXPECT_EQ(suggest_config(m, 70, 160 * kGiB, 128, true).plan.seq_len, 128);
  AutoConfig cpu = suggest_config(m, 70, 160 * kGiB, 32, false);
  EXPECT_EQ(cpu.plan.seq_len, 96);
  EXPECT_EQ(cpu.plan.compute_dtype, "float32");
  EXPECT_EQ(suggest_config(m, 128, 160 * kGiB, 128, true).plan.seq_len, 128);
  // Never past the model's context.
  EXPECT_EQ(suggest_config(m, 9000, 400 * kGiB, 128, true).plan.seq_len, 4096);
}

TEST(AutoConfig, AQuantizedBaseOnlyTrainsWithQlora) {
  ModelShape m = llama7b();
  m.quantized_bits = 4;
  AutoConfig c = suggest_config(m, 300, 160 * kGiB, 128, true);
  EXPECT_EQ(c.plan.method, PlanMethod::qlora);
  EXPECT_EQ(c.quantization, "4-bit affine, group 64");
}

} // namespace

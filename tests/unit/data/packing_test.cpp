// Sequence packing: a packed batch gives the same loss as its documents run
// one by one (attention kept inside each document, positions restarting),
// and packing/scheduling is deterministic.
#include <random>

#include <gtest/gtest.h>

#include "mlxt/data/packing.h"
#include "mlxt/models/init.h"
#include "mlxt/models/transformer.h"
#include "mlxt/train/loss.h"
#include "support/test_support.h"

namespace {

namespace mx = mlx::core;
using mlxt::data::Example;

std::vector<Example> random_documents(int n, int vocab, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<Example> docs;
  for (int i = 0; i < n; ++i) {
    Example e;
    const int len = 4 + int(rng() % 37);
    for (int t = 0; t < len; ++t) {
      e.tokens.push_back(int32_t(rng() % vocab));
      // Mask like a chat: the first third is prompt.
      e.loss_mask.push_back(t > len / 3 ? 1 : 0);
    }
    docs.push_back(std::move(e));
  }
  return docs;
}

// Summed token loss and target count of one batch.
std::pair<double, double> batch_loss(const mlxt::models::Model& model,
                                     const mlxt::data::Batch& batch,
                                     bool use_packing_inputs) {
  mlxt::nn::ForwardContext ctx;
  if (use_packing_inputs) {
    ctx.attention_mask = batch.attention_mask;
    ctx.positions = batch.positions;
  }
  mx::array logits =
      mlxt::models::forward(model.args, model.weights, batch.inputs, ctx);
  mx::array loss =
      mlxt::train::masked_cross_entropy_sum(logits, batch.targets, batch.mask);
  return {loss.item<float>(), double(batch.target_tokens)};
}

class PackingLoss : public ::testing::TestWithParam<const char*> {};

TEST_P(PackingLoss, PackedEqualsUnpacked) {
  auto model = mlxt::models::init_model({.arch = GetParam(),
                                         .preset = "tiny",
                                         .vocab_size = 97,
                                         .seed = 3,
                                         .init_std = 0.2f});
  const std::vector<Example> docs = random_documents(12, 97, 7);
  const mlxt::data::BatchOptions options{
      .batch_size = 2, .pad_multiple = 8, .max_seq_length = 65};
  auto rows = mlxt::data::pack_examples(docs, 64);
  ASSERT_LT(rows.size(), docs.size()); // something was packed together
  double unpacked_sum = 0.0, unpacked_tokens = 0.0;
  for (const Example& d : docs) {
    auto [l, n] =
        batch_loss(model, mlxt::data::make_batch({&d}, options), false);
    unpacked_sum += l;
    unpacked_tokens += n;
  }
  std::vector<std::vector<const Example*>> packed_rows;
  for (const auto& row : rows) {
    packed_rows.emplace_back();
    for (size_t i : row) {
      packed_rows.back().push_back(&docs[i]);
    }
  }
  auto packed = mlxt::data::make_packed_batch(packed_rows, options);
  auto [packed_sum, packed_tokens] = batch_loss(model, packed, true);
  ASSERT_EQ(packed_tokens, unpacked_tokens);
  const double unpacked_loss = unpacked_sum / unpacked_tokens;
  EXPECT_NEAR(packed_sum / packed_tokens, unpacked_loss, 1e-5);
  // Without the document mask and positions, documents leak into each
  // other and the loss moves: the comparison above can fail.
  auto [leaky_sum, leaky_tokens] = batch_loss(model, packed, false);
  EXPECT_GT(std::abs(leaky_sum / leaky_tokens - unpacked_loss), 1e-3);
}

INSTANTIATE_TEST_SUITE_P(Archs,
                         PackingLoss,
                         ::testing::Values("llama", "qwen3"));

TEST(Packing, RowsRespectCapacityAndAreDeterministic) {
  const std::vector<Example> docs = random_documents(40, 50, 1);
  auto rows = mlxt::data::pack_examples(docs, 64);
  std::vector<int> seen(docs.size(), 0);
  for (const auto& row : rows) {
    size_t fill = 0;
    for (size_t i : row) {
      fill += docs[i].tokens.size() - 1;
      ++seen[i];
    }
    EXPECT_LE(fill, 64u);
  }
  for (int s : seen) {
    EXPECT_EQ(s, 1); // every document exactly once
  }
  EXPECT_EQ(rows, mlxt::data::pack_examples(docs, 64));
  const mlxt::data::BatchOptions options{
      .batch_size = 2, .pad_multiple = 8, .max_seq_length = 65};
  mlxt::data::PackedSchedule a(docs, options, 5), b(docs, options, 5),
      c(docs, options, 6);
  bool differs = false;
  for (long n = 0; n < 2 * a.batches_per_epoch(); ++n) {
    EXPECT_EQ(a.batch(n), b.batch(n));
    differs = differs || a.batch(n) != c.batch(n);
  }
  EXPECT_TRUE(differs); // the seed drives the order
}

TEST(Packing, PaddingIsNeverATarget) {
  const std::vector<Example> docs = random_documents(3, 50, 2);
  auto batch = mlxt::data::make_packed_batch(
      {{&docs[0], &docs[1]}, {&docs[2]}},
      {.batch_size = 2, .pad_multiple = 32, .max_seq_length = 256});
  long targets = 0;
  for (const Example& d : docs) {
    targets += std::count(d.loss_mask.begin() + 1, d.loss_mask.end(), 1);
  }
  EXPECT_EQ(batch.target_tokens, targets);
  EXPECT_EQ(mx::sum(batch.mask).item<float>(), float(targets));
  EXPECT_EQ(batch.inputs.shape(1) % 32, 0);
}

} // namespace

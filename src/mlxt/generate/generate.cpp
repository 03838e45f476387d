#include "mlxt/generate/generate.h"

#include <algorithm>
#include <chrono>

#include "mlxt/core/error.h"
#include "mlxt/models/kv_cache.h"
#include "mlxt/models/transformer.h"

namespace mlxt::generate {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

} // namespace

double GenerationStats::prompt_tokens_per_s() const {
  return time_to_first_token_s > 0 ? prompt_tokens / time_to_first_token_s
                                   : 0.0;
}

double GenerationStats::generation_tokens_per_s() const {
  return after_first_token_s > 0 ? (generated_tokens - 1) / after_first_token_s
                                 : 0.0;
}

mx::array nucleus_filter(const mx::array& scaled, float top_p) {
  if (top_p >= 1.0f) {
    return scaled;
  }
  // Nucleus sampling (Holtzman et al., 2020): drop the tail whose
  // cumulative probability (in descending order) lies beyond top_p.
  mx::array probs = mx::softmax(scaled, -1);
  mx::array order = mx::argsort(mx::negative(probs), -1);
  mx::array sorted = mx::take_along_axis(probs, order, -1);
  mx::array before = mx::subtract(mx::cumsum(sorted, -1), sorted);
  mx::array keep_sorted = mx::less(before, mx::array(top_p));
  mx::array keep = mx::put_along_axis(
      mx::zeros(probs.shape(), mx::bool_), order, keep_sorted, -1);
  return mx::where(keep, scaled, mx::array(-INFINITY));
}

mx::array sample_tokens(const mx::array& logits,
                        const SamplingOptions& options,
                        const mx::array& key) {
  mx::array x = mx::astype(logits, mx::float32);
  if (options.temperature <= 0.0f) {
    return mx::astype(mx::argmax(x, -1), mx::int32);
  }
  mx::array scaled = mx::divide(x, mx::array(options.temperature));
  return mx::astype(
      mx::random::categorical(nucleus_filter(scaled, options.top_p), -1, key),
      mx::int32);
}

int sample_token(const mx::array& logits,
                 const SamplingOptions& options,
                 const mx::array& key) {
  return sample_tokens(logits, options, key).item<int>();
}

std::vector<int> generate_tokens(const models::ModelArgs& args,
                                 const Params& weights,
                                 const nn::ForwardContext& ctx_in,
                                 const std::vector<int>& prompt,
                                 const SamplingOptions& options,
                                 const std::function<void(int)>& on_token,
                                 GenerationStats* stats) {
  if (prompt.empty()) {
    fail(ErrorCode::invalid_config,
         "the prompt encodes to no tokens",
         {.key = "prompt"});
  }
  nn::ForwardContext ctx = ctx_in;
  ctx.lora_dropout = 0.0f;
  ctx.checkpoint_blocks = false;
  models::KVCache cache(args.num_hidden_layers);
  mx::array key = mx::random::key(options.seed);
  std::vector<int> out;
  // sample_token's item() waits for the forward pass, so each token's
  // clock reading follows its computation.
  const Clock::time_point start = Clock::now();
  Clock::time_point first_token;
  mx::array input(
      prompt.begin(), {1, static_cast<int>(prompt.size())}, mx::int32);
  for (int i = 0; i < options.max_tokens; ++i) {
    mx::array logits = models::forward(args, weights, input, ctx, &cache);
    mx::array last =
        mx::reshape(mx::slice(logits,
                              {0, logits.shape(1) - 1, 0},
                              {1, logits.shape(1), logits.shape(2)}),
                    {logits.shape(2)});
    auto [next_key, sub] = mx::random::split(key);
    key = next_key;
    int token = sample_token(last, options, sub);
    if (out.empty()) {
      first_token = Clock::now();
    }
    out.push_back(token);
    if (on_token) {
      on_token(token);
    }
    if (std::find(options.stop_ids.begin(), options.stop_ids.end(), token) !=
        options.stop_ids.end()) {
      break;
    }
    input = mx::array({token}, {1, 1}, mx::int32);
  }
  if (stats != nullptr) {
    *stats = {.prompt_tokens = static_cast<int>(prompt.size()),
              .generated_tokens = static_cast<int>(out.size())};
    if (!out.empty()) {
      stats->time_to_first_token_s = seconds_between(start, first_token);
      stats->after_first_token_s = seconds_between(first_token, Clock::now());
    }
  }
  return out;
}

} // namespace mlxt::generate

// KVCache: the keys and values of past positions, one entry per layer, for
// incremental decoding. Storage grows in steps of `kStep` positions and new
// entries are written with slice_update, so decoding one token does not copy
// the whole history.
#pragma once

#include <optional>
#include <vector>

#include <mlx/mlx.h>

namespace mlxt::models {

namespace mx = mlx::core;

class KVCache {
public:
  explicit KVCache(int num_layers);

  //! Positions already cached (the RoPE offset of the next token).
  int offset() const { return offset_; }

  //! Appends keys/values (B, H_kv, L, D) of `layer` and returns all cached
  //! ones (B, H_kv, offset + L, D). Call advance(L) after the last layer.
  std::pair<mx::array, mx::array>
  update_and_fetch(int layer, const mx::array& keys, const mx::array& values);

  //! Moves the offset past the L positions just written.
  void advance(int length) { offset_ += length; }

private:
  static constexpr int kStep = 256;
  struct Entry {
    std::optional<mx::array> keys;   // (B, H_kv, capacity, D)
    std::optional<mx::array> values; // (B, H_kv, capacity, D)
  };
  std::vector<Entry> layers_;
  int offset_ = 0;
};

} // namespace mlxt::models

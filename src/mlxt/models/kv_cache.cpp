#include "mlxt/models/kv_cache.h"

namespace mlxt::models {

KVCache::KVCache(int num_layers) : layers_(num_layers) {}

std::pair<mx::array, mx::array> KVCache::update_and_fetch(
    int layer, const mx::array& keys, const mx::array& values) {
  Entry& entry = layers_.at(layer);
  const int length = keys.shape(2);
  const int end = offset_ + length;
  int capacity = entry.keys ? entry.keys->shape(2) : 0;
  if (end > capacity) {
    // Grow to the next multiple of kStep that holds `end` positions.
    int new_capacity = ((end + kStep - 1) / kStep) * kStep;
    auto grow = [&](const std::optional<mx::array>& old,
                    const mx::array& like) {
      mx::Shape shape = like.shape();
      shape[2] = new_capacity;
      mx::array fresh = mx::zeros(shape, like.dtype());
      if (old) {
        const mx::Shape start = {0, 0, 0, 0};
        const mx::Shape stop = {shape[0], shape[1], offset_, shape[3]};
        fresh =
            mx::slice_update(fresh, mx::slice(*old, start, stop), start, stop);
      }
      return fresh;
    };
    entry.keys = grow(entry.keys, keys);
    entry.values = grow(entry.values, values);
  }
  const mx::Shape& ks = keys.shape();
  const mx::Shape start = {0, 0, offset_, 0};
  entry.keys = mx::slice_update(
      *entry.keys, keys, start, mx::Shape{ks[0], ks[1], end, ks[3]});
  const mx::Shape& vs = values.shape();
  entry.values = mx::slice_update(
      *entry.values, values, start, mx::Shape{vs[0], vs[1], end, vs[3]});
  const mx::Shape zero = {0, 0, 0, 0};
  return {mx::slice(*entry.keys, zero, mx::Shape{ks[0], ks[1], end, ks[3]}),
          mx::slice(*entry.values, zero, mx::Shape{vs[0], vs[1], end, vs[3]})};
}

} // namespace mlxt::models

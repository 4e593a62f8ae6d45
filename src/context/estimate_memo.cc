#include "context/estimate_memo.h"

#include <bit>
#include <functional>

namespace mec {

EstimateMemo::EstimateMemo(size_t entries) {
  const size_t total = std::bit_ceil(std::max<size_t>(entries, 64));
  shards_ = 16;
  per_shard_ = total / shards_;
  shard_ = std::make_unique<Shard[]>(shards_);
  for (size_t i = 0; i < shards_; ++i) shard_[i].slots = std::make_unique<Slot[]>(per_shard_);
}

uint64_t EstimateMemo::Key(std::string_view prompt) {
  // libstdc++'s string hash (murmur-style, 64 bits), with the length mixed in.
  return std::hash<std::string_view>{}(prompt) ^ (static_cast<uint64_t>(prompt.size()) * 0x9e3779b97f4a7c15ULL);
}

EstimateMemo::Slot& EstimateMemo::SlotFor(uint64_t key, Shard** shard) const {
  *shard = &shard_[key & (shards_ - 1)];
  return (*shard)->slots[(key >> 4) & (per_shard_ - 1)];
}

bool EstimateMemo::Find(uint64_t key, uint64_t generation, ComplexityEstimate* out) const {
  Shard* shard;
  const Slot& s = SlotFor(key, &shard);
  {
    std::lock_guard lock(shard->mu);
    if (s.used && s.key == key && s.generation == generation) {
      *out = s.value;
      hits_.fetch_add(1, std::memory_order_relaxed);
      return true;
    }
  }
  misses_.fetch_add(1, std::memory_order_relaxed);
  return false;
}

void EstimateMemo::Put(uint64_t key, uint64_t generation, const ComplexityEstimate& e) {
  Shard* shard;
  Slot& s = SlotFor(key, &shard);
  std::lock_guard lock(shard->mu);
  s.key = key;
  s.generation = generation;
  s.used = true;
  s.value = e;
}

}  // namespace mec

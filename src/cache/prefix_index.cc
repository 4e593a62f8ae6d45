#include "cache/prefix_index.h"

#include <algorithm>

namespace mec {

PrefixIndex::PrefixIndex(size_t backends, size_t capacity_blocks) : capacity_(std::max<size_t>(1, capacity_blocks)) {
  shards_.reserve(backends);
  for (size_t i = 0; i < backends; ++i) shards_.push_back(std::make_unique<Shard>());
}

size_t PrefixIndex::Match(size_t b, std::span<const uint64_t> blocks) const {
  if (b >= shards_.size() || blocks.empty()) return 0;
  const Shard& s = *shards_[b];
  std::lock_guard lock(s.mu);
  size_t n = 0;
  while (n < blocks.size() && s.where.count(blocks[n])) ++n;
  return n;
}

void PrefixIndex::Record(size_t b, std::span<const uint64_t> blocks) {
  if (b >= shards_.size() || blocks.empty()) return;
  Shard& s = *shards_[b];
  std::lock_guard lock(s.mu);
  // Last block first: the leading ones end up most recent, and the tail is evicted first.
  for (auto it = blocks.rbegin(); it != blocks.rend(); ++it) {
    auto found = s.where.find(*it);
    if (found != s.where.end()) {
      s.lru.splice(s.lru.begin(), s.lru, found->second);
      continue;
    }
    s.lru.push_front(*it);
    s.where.emplace(*it, s.lru.begin());
    if (s.lru.size() > capacity_) {
      s.where.erase(s.lru.back());
      s.lru.pop_back();
    }
  }
}

size_t PrefixIndex::Size(size_t b) const {
  if (b >= shards_.size()) return 0;
  std::lock_guard lock(shards_[b]->mu);
  return shards_[b]->lru.size();
}

}  // namespace mec

#include "cache/response_cache.h"

namespace mec {

size_t CachedAnswer::Bytes() const {
  size_t n = sizeof(CachedAnswer) + model.size() + content_type.size() + body.size();
  for (const auto& e : events) n += sizeof(std::string) + e.size();
  return n;
}

ResponseCache::ResponseCache(int64_t max_bytes, Duration ttl, const Clock& clock)
    : max_bytes_(static_cast<size_t>(max_bytes < 0 ? 0 : max_bytes)), ttl_(ttl), clock_(clock) {}

void ResponseCache::Erase(std::list<Entry>::iterator it) {
  bytes_ -= it->bytes;
  index_.erase(it->key);
  lru_.erase(it);
}

std::shared_ptr<const CachedAnswer> ResponseCache::Get(const std::string& key) {
  const TimePoint now = clock_.Now();
  std::lock_guard lock(mu_);
  auto it = index_.find(key);
  if (it == index_.end()) {
    ++stats_.misses;
    return nullptr;
  }
  if (now - it->second->stored > ttl_) {
    Erase(it->second);
    ++stats_.expired;
    ++stats_.misses;
    return nullptr;
  }
  lru_.splice(lru_.begin(), lru_, it->second);
  ++stats_.hits;
  return it->second->answer;
}

void ResponseCache::Put(const std::string& key, CachedAnswer answer) {
  const size_t bytes = answer.Bytes() + 2 * key.size() + 64;
  if (bytes > max_bytes_) return;
  auto shared = std::make_shared<const CachedAnswer>(std::move(answer));
  const TimePoint now = clock_.Now();
  std::lock_guard lock(mu_);
  if (auto it = index_.find(key); it != index_.end()) Erase(it->second);
  while (bytes_ + bytes > max_bytes_ && !lru_.empty()) {
    Erase(std::prev(lru_.end()));
    ++stats_.evictions;
  }
  lru_.push_front(Entry{key, std::move(shared), now, bytes});
  index_[key] = lru_.begin();
  bytes_ += bytes;
  ++stats_.stores;
}

ResponseCache::Stats ResponseCache::stats() const {
  std::lock_guard lock(mu_);
  Stats s = stats_;
  s.entries = index_.size();
  s.bytes = bytes_;
  return s;
}

}  // namespace mec

#pragma once
// The in-process response cache: answers by key (cache_key.h), bounded by total bytes (least
// recently used evicted first) and by age (ttl). Thread-safe: one mutex, held only to find,
// insert or evict (never while copying an answer out: entries are shared immutable objects).
// Time is injected.

#include <atomic>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/clock.h"

namespace mec {

// An answer as the client received it, enough to give it again.
struct CachedAnswer {
  int backend = -1;              // the backend that produced it (its tier decides who may reuse it)
  std::string model;             // for X-MEC-Model
  bool stream = false;
  std::string content_type;      // whole answers
  std::string body;              // whole answers: the JSON body
  std::vector<std::string> events;  // streams: every data payload upstream sent, in order, without [DONE]
  int64_t output_tokens = 0;
  size_t Bytes() const;
};

class ResponseCache {
 public:
  ResponseCache(int64_t max_bytes, Duration ttl, const Clock& clock);

  // The answer under `key`, or null when absent or older than the ttl (then dropped).
  std::shared_ptr<const CachedAnswer> Get(const std::string& key);
  // Stores (or replaces) the answer under `key`. An answer larger than the whole budget is not kept.
  void Put(const std::string& key, CachedAnswer answer);

  struct Stats {
    uint64_t hits = 0, misses = 0, stores = 0, evictions = 0, expired = 0;
    size_t entries = 0, bytes = 0;
  };
  Stats stats() const;

 private:
  struct Entry {
    std::string key;
    std::shared_ptr<const CachedAnswer> answer;
    TimePoint stored{};
    size_t bytes = 0;
  };
  void Erase(std::list<Entry>::iterator it);  // REQUIRES: mu_ held

  const size_t max_bytes_;
  const Duration ttl_;
  const Clock& clock_;
  mutable std::mutex mu_;
  std::list<Entry> lru_;  // most recently used first
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;
  size_t bytes_ = 0;
  Stats stats_;
};

}  // namespace mec

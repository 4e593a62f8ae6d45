#pragma once
// The response cache's second level, shared by regional replicas through Redis (issue "Monitor
// and cache agents"; docs/replicas.md). The in-process ResponseCache stays the first level: a
// replica looks here only after a local miss, and copies what it finds into its own cache.
//
// Entries are Redis strings `mec:cache:<cache key>` holding EncodeAnswer(), with the cache's ttl
// as their expiry (PX). The memory bound in Redis is Redis's own (maxmemory with an LRU policy);
// an answer larger than max_entry_bytes is not shared.
//
// The caller decides what may be shared: an answer to a request with X-MEC-Privacy device or edge
// is never given to Put (DESIGN.md §7: such answers stay in the process that served them).
//
// Redis is never waited on without a bound: Get() hands the lookup to this object's own thread
// (hiredis, blocking, 300 ms timeouts) and the caller waits at most its own lookup timeout; while
// Redis is down, Get() answers "absent" at once and Put() drops, and the thread tries to reconnect
// once per second; idle, it PINGs Redis every sync_ms so that /api/state and /metrics say when
// Redis is gone. Lookups go before stores; past kMaxQueued waiting operations, new ones are
// dropped (counted).
//
// Thread-safety: every method from any thread. A Get's callback runs on this object's thread (or
// inline on the caller's when the lookup is refused); it must be cheap and must not call back in.

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "backend/backend_pool.h"
#include "cache/response_cache.h"
#include "config/options.h"
#include "core/clock.h"

struct redisContext;

namespace mec {

// The bytes stored in Redis for one answer. The backend travels by name (replicas may number
// their backends differently); DecodeAnswer returns nullopt for malformed bytes or a backend this
// replica does not have.
std::string EncodeAnswer(const CachedAnswer& a, const BackendPool& pool);
std::optional<CachedAnswer> DecodeAnswer(std::string_view bytes, const BackendPool& pool);

class SharedCache {
 public:
  static constexpr size_t kMaxQueued = 512;
  static constexpr size_t kMaxEntryBytes = 4 << 20;

  using Done = std::function<void(std::shared_ptr<const CachedAnswer>)>;

  SharedCache(const StateOptions& options, const BackendPool& pool, Duration ttl, const Clock& clock);
  ~SharedCache();  // Stop()s
  void Start();
  // Ends the thread; lookups still waiting are answered "absent" first. Call before whatever a
  // pending callback posts to (an io_context) goes away.
  void Stop();

  // Looks `key` up; calls `done` exactly once with the answer or null.
  void Get(const std::string& key, Done done);
  // Stores the answer under `key` (fire and forget).
  void Put(const std::string& key, const CachedAnswer& answer);

  struct Stats {
    bool connected = false;
    uint64_t lookups = 0, hits = 0, stores = 0, errors = 0;
    uint64_t dropped = 0, dropped_lookups = 0;  // refused at the door (Redis down or queue full); lookups among them
  };
  Stats stats() const;

 private:
  struct Op {
    std::string key;
    std::string value;  // stores only
    Done done;          // lookups only
  };
  void Run();
  bool Connect();
  void Fail(const char* why);
  void Execute(Op& op);

  const StateOptions options_;
  const BackendPool& pool_;
  const int64_t ttl_ms_;
  const Clock& clock_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Op> gets_, puts_;  // guarded by mu_
  bool stop_ = false;           // guarded by mu_
  bool up_ = true;              // guarded by mu_: false while Redis is unreachable (Get answers at once)
  Stats stats_;                 // guarded by mu_
  std::thread thread_;

  redisContext* redis_ = nullptr;  // the thread's
  TimePoint retry_at_{};           // the thread's: no reconnect before this
};

}  // namespace mec

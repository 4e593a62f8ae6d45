#pragma once
// The gateway's API keys (docs/security.md): who may call, and how much. Owns the keys database,
// the in-memory table the request path reads, the limits (local, or shared through Redis with a
// local share as the fallback) and the threads that keep the table current:
//   - every auth.reload_ms, the database's data_version: a change another process (the CLI,
//     another gateway on the same file) committed reloads the table;
//   - with state: redis, key changes made through any replica's admin API arrive through Redis
//     (redis_limiter.h) and are written to this replica's file, then the table reloads.
//
// The request path: Authenticate (a table lookup and one salted SHA-256), then ReserveLocal or,
// with Redis, the caller's bounded wait on redis()->Reserve, then Settle once at the end.
//
// Thread-safety: every method from any thread.

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <variant>
#include <vector>

#include "api/error.h"
#include "auth/key_store.h"
#include "auth/limits.h"
#include "auth/redis_limiter.h"
#include "config/options.h"
#include "core/clock.h"

namespace mec {

class KeyGuard {
 public:
  KeyGuard(const AuthOptions& auth, const StateOptions& state, const Clock& clock, std::string replica_id);
  ~KeyGuard();  // Stop()s
  // Opens the database and loads the keys; starts the reload thread (and the Redis limiter).
  Status Start();
  void Stop();

  using KeyPtr = std::shared_ptr<const KeyRecord>;
  // The key named by `Authorization: Bearer <key>`, or a 401 (missing, malformed, unknown,
  // revoked, expired). The message never repeats the key.
  std::variant<KeyPtr, ApiError> Authenticate(std::string_view authorization) const;

  // Limits kept in this process: the whole limits without Redis, `share` of them as Redis's fallback.
  LimitVerdict ReserveLocal(const KeyRecord& k, const Reservation& r, std::string ticket, bool fallback);
  // Ends a reservation made by ReserveLocal (fallback as given) or by redis() (shared).
  enum class Where { kLocal, kFallback, kShared };
  void Settle(const KeyRecord& k, Where where, const LimitVerdict& v, const Reservation& reserved, const Reservation& used);
  RedisLimiter* redis() { return redis_.get(); }  // null without state: redis
  int share() const;  // the fallback's divisor
  KeyUsage LocalUsage(const KeyRecord& k) const;
  const Clock& clock() const { return clock_; }

  // The admin surface (CLI-equivalent, audited as `who`): changes go to the file and, with
  // Redis, to every replica.
  Result<NewKey> Create(const KeyRecord& base, const std::string& who);
  Status Revoke(const std::string& name, const std::string& who);
  Result<NewKey> Rotate(const std::string& name, const std::string& who);
  Result<std::vector<KeyRecord>> List();
  Result<KeyRecord> Find(const std::string& name);
  Result<std::vector<AuditEntry>> Audit(int limit);

  // What each key did through this replica since it started (the dashboard, /metrics): admitted
  // requests, refusals by its limits, and the spend settled (USD).
  struct KeyCounters {
    std::string name;
    uint64_t requests = 0, refused = 0;
    double spend_usd = 0;
  };
  void CountRefused(const std::string& name);
  std::vector<KeyCounters> Counters() const;  // sorted by name
  // Prometheus text: keys loaded, reloads, fallbacks, Redis up, and the counters above by key name.
  std::string MetricsText() const;

  size_t size() const;
  struct Stats {
    uint64_t reloads = 0;
    uint64_t fallbacks = 0;  // reservations made on the local share because Redis did not answer in time
  };
  Stats stats() const;
  void CountFallback() { fallbacks_.fetch_add(1, std::memory_order_relaxed); }

 private:
  using Table = std::unordered_map<std::string, KeyPtr>;  // by key id
  Status Reload();  // REQUIRES: store_mu_ held
  void Watch();
  void OnRedisKeys(std::vector<KeyRecord> records);
  void PublishNewer();  // REQUIRES: store_mu_ held, redis_

  const AuthOptions auth_;
  const StateOptions state_;
  const Clock& clock_;
  const std::string replica_id_;

  std::mutex store_mu_;
  std::unique_ptr<KeyStore> store_;
  int64_t data_version_ = -1;

  mutable std::mutex table_mu_;
  std::shared_ptr<const Table> table_;

  LocalLimiter local_, fallback_;
  std::unique_ptr<RedisLimiter> redis_;

  std::mutex watch_mu_;
  std::condition_variable watch_cv_;
  bool stop_ = false;
  std::thread watcher_;
  int64_t published_upto_ms_ = 0;  // the watcher's: changes newer than this go to Redis
  std::atomic<uint64_t> reloads_{0}, fallbacks_{0};

  mutable std::mutex counters_mu_;
  std::map<std::string, KeyCounters> counters_;
};

}  // namespace mec

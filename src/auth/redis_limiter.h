#pragma once
// Key limits and key changes shared by every replica through Redis (docs/security.md).
//
// Counts live in Redis and change only inside server-side Lua scripts, so a check and its
// increment are one atomic step (no check-then-increment race between replicas):
//   mec:auth:<name>:m:<minute>      hash {r: requests, t: tokens} of one Unix minute (expires)
//   mec:auth:<name>:inflight        sorted set of reservation tickets, scored by their expiry
//                                   (a replica that dies mid-request frees its slots after
//                                   kTicketTtlMs)
//   mec:auth:<name>:spend:<start>   the budget period's spend in USD, reservations included
// Key records travel as `mec:auth:keys` (hash name -> EncodeKeyRecord) with a change counter
// `mec:auth:keys:version`; every replica polls the counter each auth.reload_ms and hands newer
// records to `on_keys`. Replicas announce themselves in `mec:auth:replicas` (sorted set scored
// by the last heartbeat) so that a replica cut off from Redis knows its share (live_replicas()).
//
// Redis is never waited on without a bound: operations go to this object's thread (hiredis,
// blocking, 300 ms timeouts); the caller waits at most auth.redis_timeout_ms for a reservation and
// then falls back to its local share. While Redis is down, Reserve answers "unavailable" at once.
//
// Thread-safety: every method from any thread. Callbacks run on this object's thread (or inline
// when refused at the door); they must be cheap and must not call back in.

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "auth/limits.h"
#include "config/options.h"
#include "core/clock.h"

struct redisContext;

namespace mec {

std::string EncodeKeyRecord(const KeyRecord& r);
std::optional<KeyRecord> DecodeKeyRecord(std::string_view s);

class RedisLimiter {
 public:
  static constexpr int64_t kTicketTtlMs = 600000;
  static constexpr size_t kMaxQueued = 4096;
  using Reserved = std::function<void(std::optional<LimitVerdict>)>;  // nullopt: Redis unavailable
  using KeysChanged = std::function<void(std::vector<KeyRecord>)>;
  using UsageDone = std::function<void(std::optional<KeyUsage>)>;

  RedisLimiter(const StateOptions& state, const AuthOptions& auth, std::string replica_id, const Clock& clock,
               KeysChanged on_keys);
  ~RedisLimiter();  // Stop()s
  void Start();
  void Stop();  // reservations still queued are answered "unavailable"

  void Reserve(const KeyRecord& k, const KeyLimits& limits, const Reservation& r, int64_t now_ms, std::string ticket,
               Reserved done);
  void Settle(const std::string& name, const LimitVerdict& v, const Reservation& reserved, const Reservation& used);
  void Usage(const KeyRecord& k, int64_t now_ms, UsageDone done);
  // Shares a key change with the other replicas (fire and forget; retried until Redis takes it).
  void Publish(const KeyRecord& r);

  bool up() const;
  int live_replicas() const;  // >= 1
  struct Stats {
    uint64_t reserves = 0, settles = 0, errors = 0, dropped = 0, key_updates = 0;
  };
  Stats stats() const;

 private:
  struct Op {
    enum Kind { kReserve, kSettle, kUsage, kPublish } kind;
    KeyRecord key;
    KeyLimits limits;
    Reservation r, used;
    LimitVerdict verdict;
    int64_t now_ms = 0;
    Reserved reserved;
    UsageDone usage;
  };
  bool Enqueue(Op op);
  void Run();
  bool Connect();
  void Fail(const char* why);
  void Execute(Op& op);
  void Tick();  // heartbeat, key changes

  const StateOptions state_;
  const AuthOptions auth_;
  const std::string replica_id_;
  const Clock& clock_;
  KeysChanged on_keys_;
  redisContext* redis_ = nullptr;  // the thread's
  std::string keys_version_;       // the thread's: last seen mec:auth:keys:version
  std::vector<KeyRecord> unpublished_;  // the thread's: publications Redis has not taken yet
  TimePoint retry_at_{}, next_tick_{};

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Op> ops_;
  bool stop_ = false;
  bool up_ = false;
  int live_ = 1;
  Stats stats_;
  std::thread thread_;
};

}  // namespace mec

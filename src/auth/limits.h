#pragma once
// A key's limits (docs/security.md): requests and tokens per minute, requests in flight, and a
// budget in USD per period. Admission reserves what a request may use at most (one request, its
// input plus its output bound in tokens, its maximum cost); the end of the request settles the
// reservation to what it used. A request is admitted while the counts *before* it are under the
// limits — and its own reservation fits the token limit — so concurrent requests never overspend
// by more than one request's maximum cost: spend <= budget + max reservation.
//
// Windows are fixed, aligned to the Unix minute (every replica cuts them at the same instant);
// budget periods are UTC calendar periods (PeriodAt). LocalLimiter keeps them in this process;
// RedisLimiter (redis_limiter.h) keeps the same counts atomically in Redis for all replicas.
//
// Thread-safety: LocalLimiter's methods from any thread.

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

#include "auth/api_key.h"

namespace mec {

struct Reservation {
  int64_t tokens = 0;  // input + output (bound at admission, actual at settlement)
  double usd = 0;      // maximum cost at admission, actual cost at settlement
};

enum class LimitKind { kNone, kRpm, kTpm, kParallel, kBudget };
std::string_view LimitKindName(LimitKind k);  // "requests per minute" ...

// What the x-ratelimit-* headers say (OpenAI's names): limits of 0 are not sent.
struct RateLimitState {
  int64_t limit_requests = 0, remaining_requests = 0;
  int64_t limit_tokens = 0, remaining_tokens = 0;
  double reset_s = 0;  // until the minute window resets
};

// The outcome of a reservation; kept by the request to settle it.
struct LimitVerdict {
  LimitKind refused = LimitKind::kNone;
  double retry_after_s = 0;        // refused: when to retry (window end, period end, or 1 s for parallel)
  RateLimitState state;
  int64_t minute = 0;              // the window and period the reservation went into
  int64_t period_start_ms = 0;
  std::string ticket;              // this reservation's id among the key's requests in flight
};

// Limits divided by `share` (>= 1): a replica's part when it cannot reach the shared counts.
KeyLimits ShareOf(const KeyLimits& l, int share);

// A key's usage as one limiter sees it (GET /v1/usage).
struct KeyUsage {
  int64_t requests_this_minute = 0, tokens_this_minute = 0, in_flight = 0;
  double spend_usd = 0;            // this budget period, reservations in flight included
  PeriodSpan period;
};

class LocalLimiter {
 public:
  LimitVerdict Reserve(const KeyRecord& k, const KeyLimits& limits, const Reservation& r, int64_t now_ms, std::string ticket);
  // Releases the in-flight slot and replaces the reservation by what was used (same window and
  // period; a window that has since ended is left alone).
  void Settle(const std::string& name, const LimitVerdict& v, const Reservation& reserved, const Reservation& used);
  KeyUsage Usage(const KeyRecord& k, int64_t now_ms) const;

 private:
  struct Counts {
    int64_t minute = -1, requests = 0, tokens = 0, in_flight = 0;
    int64_t period_start_ms = -1;
    double spend = 0;
  };
  mutable std::mutex mu_;
  std::unordered_map<std::string, Counts> by_key_;
};

}  // namespace mec

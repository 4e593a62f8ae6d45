#pragma once
// The dashboard's live statistics (GET /api/dashboard): the last few minutes of traffic, fed once
// per finished request through the OutcomeObserver hook of the Telemetry facade.
//
// It keeps
//   - a ring of the latest decisions (id, time, policy, tier, backend, status, TTFT, latency,
//     cost, reason), and
//   - per-second buckets over the last `window_s` seconds, per tier (device, edge, cloud, and
//     "none" for requests that reached no backend; a failed request counts under the tier of
//     the last backend it tried): requests, errors, cost, the cloud-only
//     counterfactual cost, and a bounded sample (reservoir) of TTFTs and latencies for
//     percentiles.
// The cloud-only counterfactual of a served request is the reference cloud backend's price (the
// first cloud backend in config) for the same input and output tokens; a request the cloud served
// counts its own cost. ASSUMPTION: the cloud model would have produced as many tokens.
//
// Time comes from the injected Clock: a request is counted in the second it finished. The series
// end at the last complete second (the current one is still filling).
//
// Thread-safety: every method may be called from any thread. OnOutcome holds one mutex for a few
// hundred nanoseconds (no allocation once the buckets are warm, except the decision's strings);
// View copies under that mutex and computes percentiles after releasing it. Not on the routing
// decision path.

#include <array>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/options.h"
#include "core/clock.h"
#include "telemetry/outcome_observer.h"

namespace mec {

struct RequestRecord;

// device, edge, cloud (Tier's values), then "none": no backend was tried.
inline constexpr int kLiveTierCount = kTierCount + 1;
inline constexpr int kNoTier = kTierCount;
std::string_view LiveTierName(int tier);

struct LiveStatsOptions {
  int decisions = 200;          // latest decisions kept
  int window_s = 300;           // seconds of per-second buckets kept
  int step_s = 5;               // percentile and cost-rate series: one point per this many seconds
  int samples_per_second = 64;  // TTFTs and latencies kept per tier and second (reservoir sample)
};

// One configured backend, as the live statistics see it (config order).
struct LiveBackend {
  std::string name;
  Tier tier = Tier::kCloud;
  PriceOptions price;
  EngineOptions engine{};  // its serving engine (docs/engines.md); kOpenAI: none polled
};

struct DecisionRow {
  std::string id;
  double unix_s = 0;            // arrival
  std::string policy;
  int tier = kNoTier;           // LiveTierName
  std::string backend;          // "" when none
  std::string status;           // RequestStatusName
  int http_status = 0;
  std::optional<double> ttft_s;
  double latency_s = 0;
  double cost_usd = 0;
  int attempts = 0;
  int hedges = 0;
  std::string reason;           // the decision's one line (X-MEC-Reason)
  std::string error;
};

// n == 0: no sample (the quantiles are then meaningless and reported as null).
struct Percentiles {
  int64_t n = 0;
  double p50 = 0, p95 = 0, p99 = 0;
};

struct TierTotals {
  int64_t requests = 0;
  int64_t errors = 0;           // failed, cut mid-stream, shed
  double cost_usd = 0;
  double cloud_only_usd = 0;
};

// What the dashboard shows, computed by View(now). Series are oldest first.
struct LiveView {
  int64_t end_unix_s = 0;       // the unix second the series end with (the last complete second)
  int window_s = 0, step_s = 0;
  // Per second (window_s entries): the second's unix time, requests per tier, errors, cost.
  std::vector<int64_t> seconds;
  std::array<std::vector<int64_t>, kLiveTierCount> requests;
  std::vector<int64_t> errors;
  // Per step (window_s / step_s entries): the unix time its last second ends at; p95 TTFT and
  // latency per tier over the step (NaN: no sample); actual and cloud-only cost over the 60 s
  // ending there, i.e. USD per minute (NaN while those 60 s are not all inside the window).
  std::vector<int64_t> steps;
  std::array<std::vector<double>, kLiveTierCount> ttft_p95, latency_p95;
  std::vector<double> cost_per_min, cloud_only_per_min;
  // The last 60 complete seconds, per tier.
  std::array<Percentiles, kLiveTierCount> ttft_last_min, latency_last_min;
  // The gateway's own time per proxied answer (RequestRecord::overhead_s), last 60 s, per tier.
  std::array<Percentiles, kLiveTierCount> overhead_last_min;
  std::array<TierTotals, kLiveTierCount> last_min;
  // Since start, per tier.
  std::array<TierTotals, kLiveTierCount> totals;
  std::string cloud_reference;  // the backend pricing the counterfactual; "" when there is no cloud backend
  std::vector<DecisionRow> decisions;  // newest first
};

class LiveStats final : public OutcomeObserver {
 public:
  // REQUIRES: options' fields > 0; step_s divides window_s; window_s >= 60.
  LiveStats(const LiveStatsOptions& options, std::vector<LiveBackend> backends, const Clock& clock);

  // Counts one finished request at the clock's now (OutcomeObserver).
  void OnOutcome(const RequestRecord& r) override;

  // The picture at `now`, with at most `max_decisions` decisions.
  LiveView View(TimePoint now, int max_decisions) const;
  // The latest `n` decisions (at most options().decisions), newest first.
  std::vector<DecisionRow> Decisions(int n) const;

  const LiveStatsOptions& options() const { return options_; }

 private:
  struct TierSecond {
    TierTotals sum;
    int64_t ttft_seen = 0, latency_seen = 0, overhead_seen = 0;
    std::vector<float> ttft, latency, overhead;  // reservoir samples, seconds
  };
  struct Second {
    int64_t sec = -1;  // on the clock's monotonic time line; -1: never used
    std::array<TierSecond, kLiveTierCount> tiers;
  };
  Second& BucketFor(int64_t sec);  // REQUIRES: mu_ held
  void CopyDecisions(int n, std::vector<DecisionRow>& out) const;  // REQUIRES: mu_ held

  // Constant after construction.
  const LiveStatsOptions options_;
  const std::vector<LiveBackend> backends_;
  const Clock& clock_;
  const int reference_;     // index of the first cloud backend, -1 if none
  const int64_t unix0_;     // unix seconds at construction ...
  const int64_t mono0_;     // ... and the clock's second at the same moment

  mutable std::mutex mu_;
  std::vector<Second> seconds_;           // guarded by mu_; ring indexed by sec % window_s
  std::vector<DecisionRow> decisions_;    // guarded by mu_; ring of options_.decisions
  size_t next_decision_ = 0;              // guarded by mu_
  uint64_t recorded_ = 0;                 // guarded by mu_
  std::array<TierTotals, kLiveTierCount> totals_{};  // guarded by mu_
};

}  // namespace mec

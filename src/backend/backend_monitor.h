#pragma once
// The Resource agent: live state of every backend (DESIGN.md §3). Fed with attempt outcomes and
// health-check results on the request and probe paths; routing reads only the immutable snapshot
// that Publish(now) builds, through one atomic pointer load (Current()).
//
// Per backend it keeps: latency estimators for RTT, TTFT and time per output token
// (latency_estimator.h), an outlier detector (outlier_detector.h), an active health-check state
// machine (health_checker.h) and a time-decayed share of failed / rate-limited attempts. Time is
// always passed in (TimePoint now); the monitor never reads a clock.
//
// Thread-safety: every method is safe from any thread. The On*() updates take a per-backend mutex
// (never on the decision path). Current() takes no lock: a replaced snapshot stays alive for at
// least kRetainedSnapshots further publications AND kMinRetention of the publishers' time line,
// far longer than a decision lasts. Do not keep the reference across a co_await or a sleep: copy
// what you need.

#include <array>
#include <atomic>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "backend/attempt_result.h"
#include "backend/backend_pool.h"
#include "backend/engine_load_board.h"
#include "backend/latency_estimator.h"
#include "backend/pool_snapshot.h"
#include "core/clock.h"
#include "core/rng.h"

namespace mec {

// What one upstream attempt taught about its backend.
struct AttemptOutcome {
  AttemptResult result = AttemptResult::kOk;  // backend/attempt_result.h
  std::optional<double> ttft_s;   // request sent -> first byte
  std::optional<double> tpot_s;   // mean seconds per output token after the first
  int64_t output_tokens = 0;
  // No first byte came (timeout, cancellation, failure): how long the attempt waited for one. A
  // lower bound on the TTFT; it enters the TTFT estimate when longer than the current median, so a
  // backend that slows past its timeouts (or loses every hedge) is seen as slow, not just failing.
  std::optional<double> waited_s;
};

// A regional gateway's belief about one backend, as priors for this one (backend/fleet_priors.h).
struct FleetPrior {
  std::optional<LatencyPrior> ttft, tpot;  // stands in for the configured prior; none: the configured one
  Duration down_for{};                      // > 0: the fleet reports it out of service for this long
};

class BackendMonitor {
 public:
  static constexpr int kRetainedSnapshots = 64;
  static constexpr Duration kMinRetention = std::chrono::seconds(2);

  // Publishes a first snapshot from the configured priors.
  BackendMonitor(const BackendPool& pool, TimePoint now);
  ~BackendMonitor();
  BackendMonitor(const BackendMonitor&) = delete;
  BackendMonitor& operator=(const BackendMonitor&) = delete;

  // Returns true when the backend's health changed (ejected, probe closed/released): a good time
  // to Publish(now) rather than wait for the timer.
  bool OnAttemptEnd(int backend, const AttemptOutcome& outcome, TimePoint now);
  // Another replica's observations of this backend (state/replica_sync): a typical TTFT and time
  // per output token it measured since its last report, entered into the estimators with
  // `weight` (about the number of samples they summarize). Health and ejection are left alone.
  void OnRemoteObservation(int backend, std::optional<double> ttft_s, std::optional<double> tpot_s, double weight,
                           TimePoint now);
  // Another replica ejected this backend (state/replica_sync): out of service for `d` from now
  // unless a probe is in flight (OutlierDetector::EjectFor). Returns true when the state changed:
  // publish then.
  bool OnRemoteEjection(int backend, Duration d, TimePoint now);
  // The fleet's prior for this backend (backend/fleet_priors.h): the TTFT and time-per-token
  // priors are replaced until `until` (an absent one is reset to the configured prior), the data
  // stay; a down_for > 0 takes the backend out like a peer's ejection (OutlierDetector::EjectFor),
  // unless its ejection already lasts about that long. Returns true when the ejection changed:
  // publish then.
  bool OnFleetPrior(int backend, const FleetPrior& prior, TimePoint until, TimePoint now);
  // An active health check finished: ok or not, and the round trip it measured. A pass also ends
  // an outlier ejection's wait (half-open; outlier.uneject_on_health_check). Returns true when the
  // active health status or the ejection changed.
  bool OnHealthCheck(int backend, bool ok, std::optional<double> rtt_s, TimePoint now);
  // Half-open probing: for a backend whose ejection has expired, returns true to exactly one
  // caller per probe (that request is the probe); its outcome closes or reopens the circuit.
  bool TryClaimProbe(int backend, TimePoint now);
  // Gate before every attempt, fresher than the snapshot: true if the backend is in service
  // (outlier-wise) or half-open and this caller got the probe slot; false if ejected or another
  // probe is in flight. Active health is not checked here (routing filters on it).
  bool AdmitAttempt(int backend, TimePoint now);

  // Builds and publishes a new snapshot. The gateway calls it on a timer (and after health
  // changes); the simulator calls it from its event loop.
  void Publish(TimePoint now);
  // The latest published snapshot. Never null.
  const PoolSnapshot& Current() const { return *current_.load(std::memory_order_acquire); }
  // The view of one backend at `now`, built on demand (takes its mutex; for tests and tools).
  BackendView View(int backend, TimePoint now) const;

  // Panic (as Envoy's healthy panic threshold, per tier): when more than `share` of a tier's
  // backends are ejected by outlier detection (tiers of two or more backends), or when every
  // backend of the pool is, ejection is ignored for that tier: its ejected backends stay
  // routable and AdmitAttempt admits them, rather than the gateway failing everything. Active
  // health checks still rule a backend out. A share of 1 or more turns the per-tier rule off (the
  // pool-wide one stays). Takes effect at the next Publish.
  void SetPanicThreshold(double share) { panic_threshold_ = share; }
  bool InPanic(Tier t) const { return panic_[static_cast<int>(t)].load(std::memory_order_relaxed); }

  // Where each snapshot's BackendView::engine comes from (the engine poller's board, or the
  // simulator's). Null (the default): no view carries an engine reading. Call before serving;
  // the board must outlive the monitor.
  void SetEngineBoard(const EngineLoadBoard* board) { engines_ = board; }

  // Delay before backend b's next active health check: its interval with +-jitter.
  Duration NextHealthCheckDelay(int backend, Rng& rng) const;

 private:
  struct State;
  struct Retained {
    std::unique_ptr<PoolSnapshot> snapshot;
    TimePoint replaced{};  // when a newer one took its place
  };
  const BackendPool& pool_;
  const EngineLoadBoard* engines_ = nullptr;
  std::vector<std::unique_ptr<State>> states_;
  std::mutex publish_mu_;
  std::deque<Retained> retained_;  // oldest first; the back is current. Guarded by publish_mu_
  uint64_t version_ = 0;           // guarded by publish_mu_
  std::atomic<const PoolSnapshot*> current_{nullptr};
  double panic_threshold_ = 0.5;                      // guarded by publish_mu_ once running
  std::array<std::atomic<bool>, kTierCount> panic_{};  // per tier, set by Publish
};

}  // namespace mec

#pragma once
// What routing may know about one backend at one instant: an immutable value inside a
// PoolSnapshot. Latency predictions are lognormal (mu, sigma of the natural log of seconds), so
// the router can compute P(latency <= deadline) with one erf.

#include <cmath>
#include <cstdint>
#include <memory>

#include "backend/engine_load.h"

namespace mec {

// A lognormal belief about a duration in seconds. n == 0: no observation yet (the prior).
struct LogNormalEstimate {
  double mu = 0;      // mean of ln(seconds)
  double sigma = 0.5; // std dev of ln(seconds)
  double n = 0;       // effective number of observations behind it
  // exp(mu), memoized by CacheMedian() (LatencyEstimator::Estimate does it, so every published
  // snapshot carries its medians and a decision computes none). The memo records the mu it was
  // computed for: a caller that changes mu afterwards gets exp(mu) computed again, never a stale
  // median.
  double median_mu = 0;  // the mu median_s belongs to
  double median_s = 1;   // exp(median_mu)
  double Median() const { return mu == median_mu ? median_s : std::exp(mu); }
  void CacheMedian() {
    median_mu = mu;
    median_s = std::exp(mu);
  }
  double Quantile(double p) const;
  // P(X <= seconds).
  double Cdf(double seconds) const;
};

// Standard normal CDF and its inverse (Acklam's rational approximation refined by one Halley step:
// relative error ~1e-15). NormalQuantile(p) for p <= 0 / >= 1 returns -inf / +inf.
// Inline: the router calls it for every candidate of every decision.
inline double NormalCdf(double z) { return 0.5 * std::erfc(-z / std::sqrt(2.0)); }
double NormalQuantile(double p);

// kHealthy: routable. kUnhealthy: active health checks fail. kEjected: outlier detection took it out
// for a while (BackendView::ejected_for_s). kHalfOpen: the ejection expired; one probe request may go
// (routable while the probe slot is free; its outcome closes or re-ejects).
enum class HealthState { kHealthy, kUnhealthy, kEjected, kHalfOpen };
const char* HealthStateName(HealthState s);

struct BackendView {
  int index = -1;
  HealthState health = HealthState::kHealthy;
  bool routable = true;          // healthy, or half-open with its probe slot free, or ejected in a panic
  bool panic = false;            // ejected, but its tier is in panic (BackendMonitor::SetPanicThreshold)
  int in_flight = 0;
  int capacity = 1;              // max_concurrency
  LogNormalEstimate rtt;         // network round trip to the backend (s)
  LogNormalEstimate ttft;        // request sent -> first token, as seen by the gateway (s; includes rtt and queue)
  LogNormalEstimate tpot;        // time per output token (s)
  double error_rate = 0;         // recent share of failed attempts (local + upstream failures; EWMA)
  double rate_limited_rate = 0;  // recent share of attempts answered 429 (same EWMA; not in error_rate)
  int64_t ejections = 0;         // times ejected so far on this replica's own evidence
  int64_t peer_ejections = 0;    // times another replica's (state/replica_sync) or the fleet's (backend/fleet_priors.h) ejection took it out
  double ejected_for_s = 0;      // seconds of ejection left (0 if not ejected)
  bool fleet_prior = false;      // a regional gateway's estimate stands in for the configured prior (backend/fleet_priors.h)
  // What its serving engine said last (backend/engine_load.h; EngineLoadBoard::Latest when the
  // snapshot was published): null when it declares no engine or has not answered a poll yet.
  // Routing judges its age against the decision's time (route/engine_signals.h).
  std::shared_ptr<const EngineLoad> engine;
};

}  // namespace mec

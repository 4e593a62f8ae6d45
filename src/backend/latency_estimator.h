#pragma once
// Online, time-decayed lognormal estimate of one kind of duration (network RTT, TTFT, time per
// output token) of one backend.
//
// Model: ln(seconds) ~ Normal(mu, sigma^2). Each observation x = ln(seconds) enters a weighted
// mean/variance (West's weighted Welford update) whose weights halve every `half_life` of the
// injected time line: before an update, the accumulated weight W and squared-deviation sum S are
// multiplied by 2^(-elapsed/half_life). The mean and variance are left unchanged by the decay;
// only their weight fades, so a backend that slows down dominates its estimate after ~2-3
// half-lives of traffic at the new speed, and returns to normal just as fast when it recovers.
// A prior (median, sigma, weight n0 — from config) is pooled with the data as n0 pseudo-
// observations: mu = (n0 mu0 + W m) / (n0 + W), and the variance is the pooled variance (within
// both parts plus the spread between their means), so disagreement widens sigma honestly. With
// traffic W grows to ~rate x half_life / ln 2 and the prior fades; without traffic W decays and the
// estimate drifts back to the prior, which lets a backend the router stopped using be tried again.
// The prior can be replaced for a while at run time (OverridePrior: the fleet's estimate,
// backend/fleet_priors.h); the data are pooled with whichever prior is in effect at `now`, and the
// configured one returns when the override lapses.
//
// Why not P² quantiles or a t-digest: routing needs a whole distribution (P(latency <= deadline)
// for any deadline, with one erf) and it must forget old data within seconds. P² tracks one fixed
// quantile per marker set and cannot forget; a t-digest forgets only by rebuilding windows and
// costs kilobytes and allocation per backend per metric. Two moments of ln(x) with exponential
// decay cost three doubles, update in O(1) without allocation, adapt at a rate given in seconds,
// and blend with a prior. The price is the lognormal shape assumption: heavy tails (a bimodal
// backend) are summarized by a wide sigma rather than represented exactly.
//
// Thread-safety: none; the owner (BackendMonitor) serializes access.

#include "backend/backend_view.h"
#include "config/options.h"
#include "core/clock.h"

namespace mec {

// 2^(-elapsed / half_life); 1 for elapsed <= 0 (observations slightly out of order do not decay).
double DecayFactor(Duration elapsed, Duration half_life);

struct LatencyPrior {
  double median_s = 1;  // REQUIRES: > 0
  double sigma = 0.5;   // of ln(seconds)
  double weight = 1;    // pseudo-observations
};

// sigma never drops below this: identical samples would otherwise make Cdf a step function.
inline constexpr double kMinLogSigma = 0.05;

class LatencyEstimator {
 public:
  LatencyEstimator(LatencyPrior prior, Duration half_life);

  // One observed duration. Non-positive or non-finite values are ignored; durations below 1 us
  // are clamped to 1 us.
  void Observe(double seconds, TimePoint now, double weight = 1);
  // The belief at `now`: prior and decayed data pooled. n = effective count of data (not prior).
  // Its median is cached (LogNormalEstimate::CacheMedian).
  LogNormalEstimate Estimate(TimePoint now) const;
  // Decayed weight of the data at `now`.
  double DataWeight(TimePoint now) const;

  // The configured prior.
  const LatencyPrior& prior() const { return prior_; }

  // `prior` stands in for the configured prior from now until `until` (exclusive); then the
  // configured one again. A later call replaces an earlier one. The data are left alone.
  // REQUIRES: prior.median_s > 0, prior.weight >= 0.
  void OverridePrior(LatencyPrior prior, TimePoint until);
  void ClearPriorOverride() { override_until_ = TimePoint{}; }
  // True while an override is in effect at `now`.
  bool PriorOverridden(TimePoint now) const { return now < override_until_; }
  // The prior in effect at `now`.
  const LatencyPrior& PriorAt(TimePoint now) const { return PriorOverridden(now) ? override_ : prior_; }

 private:
  LatencyPrior prior_;
  double prior_mu_;
  LatencyPrior override_;
  double override_mu_ = 0;
  TimePoint override_until_{};  // no override at or after this
  Duration half_life_;
  double w_ = 0;     // decayed data weight at last_
  double mean_ = 0;  // weighted mean of ln(seconds)
  double s_ = 0;     // decayed weighted sum of squared deviations from mean_
  TimePoint last_{};
};

// The priors of one backend's three estimators, from its `expect` options (zeros take the tier's
// defaults). Sigmas are ASSUMPTIONS (no calibration row gives a spread): 0.5 for TTFT and RTT
// (a 90% interval of about x0.43..x2.3), 0.3 for time per output token (decode is steadier).
struct BackendPriors {
  LatencyPrior rtt, ttft, tpot;
  Duration half_life{};
};
BackendPriors PriorsFor(const BackendOptions& b);

}  // namespace mec

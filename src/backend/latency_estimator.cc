#include "backend/latency_estimator.h"

#include <algorithm>
#include <cmath>

namespace mec {

double DecayFactor(Duration elapsed, Duration half_life) {
  if (elapsed <= Duration::zero()) return 1;
  if (half_life <= Duration::zero()) return 0;
  return std::exp2(-ToSeconds(elapsed) / ToSeconds(half_life));
}

LatencyEstimator::LatencyEstimator(LatencyPrior prior, Duration half_life)
    : prior_(prior), prior_mu_(std::log(std::max(prior.median_s, 1e-6))), half_life_(half_life) {}

void LatencyEstimator::Observe(double seconds, TimePoint now, double weight) {
  if (!std::isfinite(seconds) || seconds <= 0 || !(weight > 0)) return;
  const double x = std::log(std::max(seconds, 1e-6));
  if (now > last_) {
    const double f = DecayFactor(now - last_, half_life_);
    w_ *= f;
    s_ *= f;
    last_ = now;
  }
  // Weighted Welford (West 1979): exact for decayed weights because decay scales W and S alike.
  const double w_new = w_ + weight;
  const double delta = x - mean_;
  const double mean_new = mean_ + delta * weight / w_new;
  s_ += weight * delta * (x - mean_new);
  w_ = w_new;
  mean_ = mean_new;
}

void LatencyEstimator::OverridePrior(LatencyPrior prior, TimePoint until) {
  override_ = prior;
  override_mu_ = std::log(std::max(prior.median_s, 1e-6));
  override_until_ = until;
}

double LatencyEstimator::DataWeight(TimePoint now) const {
  return now > last_ ? w_ * DecayFactor(now - last_, half_life_) : w_;
}

LogNormalEstimate LatencyEstimator::Estimate(TimePoint now) const {
  const double w = DataWeight(now);
  const double f = w_ > 0 ? w / w_ : 0;
  const double s = s_ * f;
  const bool overridden = PriorOverridden(now);
  const LatencyPrior& prior = overridden ? override_ : prior_;
  const double prior_mu = overridden ? override_mu_ : prior_mu_;
  const double n0 = prior.weight;
  const double total = n0 + w;
  LogNormalEstimate e;
  e.n = w;
  if (!(total > 0)) {
    e.mu = prior_mu;
    e.sigma = std::max(prior.sigma, kMinLogSigma);
    e.CacheMedian();
    return e;
  }
  e.mu = (n0 * prior_mu + w * mean_) / total;
  const double gap = mean_ - prior_mu;
  const double var = (n0 * prior.sigma * prior.sigma + s + n0 * w / total * gap * gap) / total;
  e.sigma = std::max(std::sqrt(std::max(var, 0.0)), kMinLogSigma);
  e.CacheMedian();
  return e;
}

BackendPriors PriorsFor(const BackendOptions& b) {
  const ExpectOptions d = TierDefaultExpect(b.tier);
  const double ttft_ms = b.expect.ttft_ms > 0 ? b.expect.ttft_ms : d.ttft_ms;
  const double tok_s = b.expect.tokens_per_s > 0 ? b.expect.tokens_per_s : d.tokens_per_s;
  const double rtt_ms = b.expect.rtt_ms > 0 ? b.expect.rtt_ms : d.rtt_ms;
  const double half_life_ms = b.expect.half_life_ms > 0 ? b.expect.half_life_ms : d.half_life_ms;
  BackendPriors p;
  p.rtt = {rtt_ms / 1000, 0.5, 1};
  p.ttft = {ttft_ms / 1000, 0.5, 1};
  p.tpot = {1 / tok_s, 0.3, 1};
  p.half_life = FromMillis(half_life_ms);
  return p;
}

}  // namespace mec

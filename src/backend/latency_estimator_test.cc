#include "backend/latency_estimator.h"

#include <gtest/gtest.h>

#include <cmath>

#include "core/rng.h"

namespace mec {
namespace {

TEST(NormalMath, CdfAndQuantile) {
  EXPECT_NEAR(NormalCdf(0), 0.5, 1e-15);
  EXPECT_NEAR(NormalCdf(1.959963984540054), 0.975, 1e-12);
  EXPECT_NEAR(NormalQuantile(0.975), 1.959963984540054, 1e-12);
  EXPECT_NEAR(NormalQuantile(0.5), 0, 1e-15);
  EXPECT_NEAR(NormalQuantile(0.01), -2.326347874040841, 1e-12);
  for (double p : {1e-12, 1e-6, 0.001, 0.02425, 0.1, 0.3, 0.5, 0.7, 0.9, 0.97575, 0.999, 1 - 1e-9})
    EXPECT_NEAR(NormalCdf(NormalQuantile(p)), p, 1e-9 * std::max(p, 1e-3)) << p;
  EXPECT_TRUE(std::isinf(NormalQuantile(0)));
  EXPECT_TRUE(std::isinf(NormalQuantile(1)));
}

TEST(LogNormalEstimate, MedianQuantileCdf) {
  LogNormalEstimate e{std::log(2.0), 0.5, 10};
  EXPECT_NEAR(e.Median(), 2.0, 1e-12);
  EXPECT_NEAR(e.Cdf(2.0), 0.5, 1e-12);
  EXPECT_NEAR(e.Quantile(0.5), 2.0, 1e-12);
  EXPECT_NEAR(e.Quantile(0.975), 2.0 * std::exp(0.5 * 1.959963984540054), 1e-9);
  EXPECT_EQ(e.Cdf(0), 0);
  EXPECT_EQ(e.Cdf(-1), 0);
  EXPECT_EQ(e.Quantile(0), 0);
  double prev = 0;
  for (double x = 0.1; x < 20; x *= 1.3) {
    const double c = e.Cdf(x);
    EXPECT_GE(c, prev);
    EXPECT_NEAR(e.Quantile(c), x, 1e-9 * x);
    prev = c;
  }
  LogNormalEstimate step{0, 0, 1};
  EXPECT_EQ(step.Cdf(0.99), 0);
  EXPECT_EQ(step.Cdf(1.0), 1);
}

TEST(LogNormalEstimate, CachedMedianIsExpOfMuAndNeverStale) {
  LogNormalEstimate e;
  EXPECT_EQ(e.Median(), 1.0);  // mu 0: the default memo holds
  e.mu = std::log(0.3);
  EXPECT_EQ(e.Median(), std::exp(e.mu));  // not cached yet: computed
  e.CacheMedian();
  EXPECT_EQ(e.median_mu, e.mu);
  EXPECT_EQ(e.median_s, std::exp(e.mu));  // bit for bit what Median() computed
  EXPECT_EQ(e.Median(), std::exp(e.mu));
  e.mu = std::log(0.7);  // changed after caching: the memo no longer applies
  EXPECT_EQ(e.Median(), std::exp(std::log(0.7)));
}

TimePoint At(double s) { return TimePoint{} + FromSeconds(s); }

TEST(LatencyEstimator, PriorWithoutData) {
  LatencyEstimator est({0.3, 0.5, 1}, std::chrono::seconds(5));
  auto e = est.Estimate(At(100));
  EXPECT_NEAR(e.Median(), 0.3, 1e-12);
  EXPECT_EQ(e.median_mu, e.mu);  // the estimate carries its median
  EXPECT_EQ(e.median_s, std::exp(e.mu));
  EXPECT_NEAR(e.sigma, 0.5, 1e-12);
  EXPECT_EQ(e.n, 0);
}

TEST(LatencyEstimator, LearnsMedianAndSpread) {
  Rng rng(7, "lat");
  LatencyEstimator est({1.0, 0.5, 1}, std::chrono::seconds(5));
  double t = 0;
  for (int i = 0; i < 2000; ++i, t += 0.01) est.Observe(std::exp(rng.Normal(std::log(0.08), 0.4)), At(t));
  auto e = est.Estimate(At(t));
  EXPECT_NEAR(e.Median(), 0.08, 0.08 * 0.1);
  EXPECT_NEAR(e.sigma, 0.4, 0.06);
  EXPECT_GT(e.n, 500);  // ~100/s x 5 s / ln 2
}

// A backend at 0.3 s slows to 1.2 s (x4), then recovers: 10 observations per second.
TEST(LatencyEstimator, AdaptsToSlowdownAndRecovery) {
  LatencyEstimator est({0.3, 0.5, 1}, std::chrono::seconds(5));
  double t = 0;
  auto run = [&](double seconds, double value) {
    for (double end = t + seconds; t < end; t += 0.1) est.Observe(value, At(t));
  };
  run(30, 0.3);
  EXPECT_NEAR(est.Estimate(At(t)).Median(), 0.3, 0.01);
  run(1, 1.2);
  const double after_1s = est.Estimate(At(t)).Median();
  EXPECT_LT(after_1s, 0.6);
  run(9, 1.2);  // two half-lives at the new speed: most of the way there
  EXPECT_GT(est.Estimate(At(t)).Median(), 0.8);
  run(5, 1.2);  // three half-lives
  EXPECT_GT(est.Estimate(At(t)).Median(), 0.95);
  // A 0.6 s deadline now looks unlikely (the sigma is still wide: old and new speeds both weigh).
  EXPECT_LT(est.Estimate(At(t)).Cdf(0.6), 0.2);
  run(30, 1.2);
  EXPECT_NEAR(est.Estimate(At(t)).Median(), 1.2, 0.05);
  run(15, 0.3);  // recovery, three half-lives
  EXPECT_LT(est.Estimate(At(t)).Median(), 0.4);
  EXPECT_GT(est.Estimate(At(t)).Cdf(0.6), 0.8);
  run(30, 0.3);
  EXPECT_NEAR(est.Estimate(At(t)).Median(), 0.3, 0.01);
}

TEST(LatencyEstimator, PriorReturnsWhenDataGoesStale) {
  LatencyEstimator est({0.3, 0.5, 1}, std::chrono::seconds(5));
  for (int i = 0; i < 100; ++i) est.Observe(2.0, At(i * 0.1));
  EXPECT_NEAR(est.Estimate(At(10)).Median(), 2.0, 0.1);  // data weight ~55 vs the prior's 1
  EXPECT_GT(est.Estimate(At(10)).n, 50);
  // Twelve half-lives without traffic: the data weighs ~0.02, the prior 1.
  auto stale = est.Estimate(At(70));
  EXPECT_LT(stale.n, 0.05);
  EXPECT_LT(stale.Median(), 0.33);
  // In between, disagreement between prior and data widens sigma.
  auto mixed = est.Estimate(At(10 + 5 * std::log2(est.Estimate(At(10)).n)));  // data weight ~1
  EXPECT_GT(mixed.sigma, 0.7);
}

TEST(LatencyEstimator, IgnoresBadValuesAndOutOfOrderTime) {
  LatencyEstimator est({0.3, 0.5, 1}, std::chrono::seconds(5));
  est.Observe(-1, At(1));
  est.Observe(0, At(1));
  est.Observe(std::nan(""), At(1));
  est.Observe(INFINITY, At(1));
  EXPECT_EQ(est.Estimate(At(1)).n, 0);
  est.Observe(0.5, At(10));
  est.Observe(0.5, At(9));  // a slightly late report: no decay, no time travel
  EXPECT_NEAR(est.Estimate(At(10)).n, 2, 1e-12);
  EXPECT_NEAR(est.DataWeight(At(15)), 1, 1e-12);
  for (int i = 0; i < 50; ++i) est.Observe(0.5, At(10));
  EXPECT_GE(est.Estimate(At(10)).sigma, kMinLogSigma);
}

TEST(LatencyEstimator, DecayFactor) {
  EXPECT_EQ(DecayFactor(Duration::zero(), std::chrono::seconds(5)), 1);
  EXPECT_EQ(DecayFactor(-std::chrono::seconds(1), std::chrono::seconds(5)), 1);
  EXPECT_NEAR(DecayFactor(std::chrono::seconds(5), std::chrono::seconds(5)), 0.5, 1e-15);
  EXPECT_NEAR(DecayFactor(std::chrono::seconds(15), std::chrono::seconds(5)), 0.125, 1e-15);
}

TEST(LatencyEstimator, PriorsFromExpectAndTierDefaults) {
  BackendOptions b;
  b.tier = Tier::kEdge;
  auto p = PriorsFor(b);
  EXPECT_NEAR(p.ttft.median_s, 0.2, 1e-12);
  EXPECT_NEAR(p.tpot.median_s, 1.0 / 70, 1e-12);
  EXPECT_NEAR(p.rtt.median_s, 0.020, 1e-12);
  EXPECT_EQ(p.half_life, std::chrono::seconds(5));
  b.expect.ttft_ms = 1500;
  b.expect.tokens_per_s = 20;
  b.expect.half_life_ms = 2000;
  p = PriorsFor(b);
  EXPECT_NEAR(p.ttft.median_s, 1.5, 1e-12);
  EXPECT_NEAR(p.tpot.median_s, 0.05, 1e-12);
  EXPECT_EQ(p.half_life, std::chrono::seconds(2));
}

TEST(LatencyEstimator, OverriddenPriorPoolsWithDataAndLapses) {
  const TimePoint t0 = TimePoint{} + std::chrono::seconds(10);
  LatencyEstimator e({0.2, 0.5, 1}, std::chrono::seconds(5));
  e.Observe(0.2, t0);
  e.OverridePrior({2.0, 0.3, 4}, t0 + std::chrono::seconds(30));
  EXPECT_TRUE(e.PriorOverridden(t0));
  EXPECT_EQ(e.PriorAt(t0).median_s, 2.0);
  EXPECT_EQ(e.prior().median_s, 0.2);  // the configured one is kept
  // 4 pseudo-observations at ln 2 and one at ln 0.2: mu = (4 ln 2 + ln 0.2) / 5.
  EXPECT_NEAR(e.Estimate(t0).mu, (4 * std::log(2.0) + std::log(0.2)) / 5, 1e-12);
  EXPECT_EQ(e.Estimate(t0).n, 1);
  const TimePoint lapsed = t0 + std::chrono::seconds(30);
  EXPECT_FALSE(e.PriorOverridden(lapsed));
  EXPECT_EQ(e.PriorAt(lapsed).median_s, 0.2);
  EXPECT_NEAR(e.Estimate(lapsed).Median(), 0.2, 1e-9);
  e.OverridePrior({2.0, 0.3, 4}, lapsed + std::chrono::seconds(30));
  e.ClearPriorOverride();
  EXPECT_FALSE(e.PriorOverridden(lapsed));
}

}  // namespace
}  // namespace mec

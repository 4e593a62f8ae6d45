#include "backend/health_checker.h"

#include <gtest/gtest.h>

namespace mec {
namespace {

using std::chrono::milliseconds;

TEST(HealthChecker, FirstResultDecides) {
  HealthCheckOptions o;
  HealthChecker up(o), down(o);
  EXPECT_EQ(up.status(), ActiveHealth::kUnknown);
  EXPECT_TRUE(up.passing());
  EXPECT_TRUE(up.OnResult(true));
  EXPECT_EQ(up.status(), ActiveHealth::kHealthy);
  EXPECT_TRUE(down.OnResult(false));
  EXPECT_EQ(down.status(), ActiveHealth::kUnhealthy);
  EXPECT_FALSE(down.passing());
}

TEST(HealthChecker, Thresholds) {
  HealthCheckOptions o;  // 2 up, 3 down
  HealthChecker h(o);
  h.OnResult(true);
  EXPECT_FALSE(h.OnResult(false));
  EXPECT_FALSE(h.OnResult(false));
  EXPECT_EQ(h.status(), ActiveHealth::kHealthy);
  EXPECT_TRUE(h.OnResult(false));  // third in a row
  EXPECT_EQ(h.status(), ActiveHealth::kUnhealthy);
  EXPECT_FALSE(h.OnResult(true));
  EXPECT_FALSE(h.OnResult(false));  // breaks the passing streak
  EXPECT_FALSE(h.OnResult(true));
  EXPECT_EQ(h.status(), ActiveHealth::kUnhealthy);
  EXPECT_TRUE(h.OnResult(true));  // second pass in a row
  EXPECT_EQ(h.status(), ActiveHealth::kHealthy);
  // A pass breaks a failing streak.
  h.OnResult(false);
  h.OnResult(false);
  h.OnResult(true);
  h.OnResult(false);
  h.OnResult(false);
  EXPECT_EQ(h.status(), ActiveHealth::kHealthy);
}

TEST(HealthChecker, JitteredIntervalStaysInBounds) {
  Rng rng(3, "hc");
  const Duration interval = milliseconds(5000);
  double sum = 0;
  Duration lo = interval, hi = interval;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    const Duration d = JitteredInterval(interval, 0.2, rng);
    ASSERT_GE(d, milliseconds(4000));
    ASSERT_LE(d, milliseconds(6000));
    lo = std::min(lo, d);
    hi = std::max(hi, d);
    sum += ToMillis(d);
  }
  EXPECT_NEAR(sum / n, 5000, 20);
  EXPECT_LT(lo, milliseconds(4100));  // the whole range is used
  EXPECT_GT(hi, milliseconds(5900));
  EXPECT_EQ(JitteredInterval(interval, 0, rng), interval);
  EXPECT_GE(JitteredInterval(Duration(10), 0.5, rng), milliseconds(1));
}

TEST(HealthChecker, CombineHealth) {
  using O = OutlierState;
  using A = ActiveHealth;
  auto check = [](O o, A a, HealthState s, bool routable) {
    const auto c = CombineHealth(o, a);
    EXPECT_EQ(c.state, s) << OutlierStateName(o) << " " << static_cast<int>(a);
    EXPECT_EQ(c.routable, routable) << OutlierStateName(o) << " " << static_cast<int>(a);
  };
  check(O::kClosed, A::kUnknown, HealthState::kHealthy, true);
  check(O::kClosed, A::kHealthy, HealthState::kHealthy, true);
  check(O::kClosed, A::kUnhealthy, HealthState::kUnhealthy, false);
  check(O::kEjected, A::kHealthy, HealthState::kEjected, false);
  check(O::kEjected, A::kUnhealthy, HealthState::kEjected, false);
  check(O::kHalfOpen, A::kHealthy, HealthState::kHalfOpen, true);
  check(O::kHalfOpen, A::kUnhealthy, HealthState::kUnhealthy, false);
  check(O::kProbing, A::kHealthy, HealthState::kHalfOpen, false);
  check(O::kProbing, A::kUnhealthy, HealthState::kUnhealthy, false);
  EXPECT_STREQ(HealthStateName(HealthState::kHalfOpen), "half-open");
}

}  // namespace
}  // namespace mec

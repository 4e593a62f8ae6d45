#include "sim/client_network.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "sim/sim_test_util.h"

namespace mec::sim {
namespace {

TEST(ClientNetwork, RttIsLognormalAroundTheLinksMedian) {
  const Scenario s = testing::MixedScenario();
  const LinkSpec& l = *s.FindLink("5g");
  ClientNetwork n(l, s.device_classes[0], 1, 0);
  std::vector<double> edge, cloud;
  for (int i = 0; i < 20000; ++i) {
    edge.push_back(n.DrawRttS(false, 0));
    cloud.push_back(n.DrawRttS(true, 15));
  }
  std::sort(edge.begin(), edge.end());
  std::sort(cloud.begin(), cloud.end());
  EXPECT_NEAR(edge[10000] * 1000, l.rtt_edge_ms, 0.03 * l.rtt_edge_ms);
  EXPECT_NEAR(cloud[10000] * 1000, l.rtt_cloud_ms + 15, 0.03 * (l.rtt_cloud_ms + 15));
  // p95 / median = exp(1.645 sigma).
  EXPECT_NEAR(edge[19000] / edge[10000], std::exp(1.645 * l.rtt_sigma), 0.08);
}

TEST(ClientNetwork, CoverageGapsTakeTheirShareOfTimeAndAreDeterministic) {
  const Scenario s = testing::MixedScenario();
  const DeviceClassSpec& v = s.device_classes[s.DeviceClassIndex("vehicle")];
  const LinkSpec& l = *s.FindLink("5g");
  ClientNetwork a(l, v, 3, 7), b(l, v, 3, 7);
  int offline = 0, n = 0;
  for (double t = 0; t < 200000; t += 1.0, ++n) {
    const TimePoint tp = TimePoint{} + FromSeconds(t);
    const bool off = a.Offline(tp);
    ASSERT_EQ(off, b.Offline(tp));
    offline += off;
    if (!off) ASSERT_GT(a.NextGapStart(tp), tp);
  }
  const double expected = v.gap_mean_s / (v.gap_interval_s + v.gap_mean_s);
  EXPECT_NEAR(static_cast<double>(offline) / n, expected, 0.006);
  // Clients without gaps are never offline.
  ClientNetwork phone(l, s.device_classes[0], 3, 1);
  EXPECT_FALSE(phone.Offline(TimePoint{} + FromSeconds(1e5)));
  EXPECT_EQ(phone.NextGapStart(TimePoint{}), TimePoint::max());
}

TEST(ClientNetwork, HandoversHitLongAttemptsMoreOften) {
  const Scenario s = testing::MixedScenario();
  const DeviceClassSpec& v = s.device_classes[s.DeviceClassIndex("vehicle")];
  ClientNetwork n(*s.FindLink("5g"), v, 5, 2);
  int short_hits = 0, long_hits = 0;
  for (int i = 0; i < 20000; ++i) {
    const double d = n.DrawHandoverDelayS(0.1);
    if (d > 0) {
      ++short_hits;
      EXPECT_GE(d, 0.050);
      EXPECT_LE(d, 0.150);  // row 65: 50-150 ms
    }
    long_hits += n.DrawHandoverDelayS(10.0) > 0;
  }
  EXPECT_NEAR(short_hits / 20000.0, 1 - std::exp(-0.1 / 30), 0.002);
  EXPECT_NEAR(long_hits / 20000.0, 1 - std::exp(-10.0 / 30), 0.015);
  // A phone has no handovers in this scenario.
  ClientNetwork phone(*s.FindLink("5g"), s.device_classes[0], 5, 3);
  EXPECT_EQ(phone.DrawHandoverDelayS(100), 0);
}

}  // namespace
}  // namespace mec::sim

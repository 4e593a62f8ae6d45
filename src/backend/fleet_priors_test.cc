#include "backend/fleet_priors.h"

#include <gtest/gtest.h>

namespace mec {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// The edge's configured TTFT prior is 0.2 s (half-life 5 s); the fleet says it takes 3 s.
class FleetPriorsTest : public ::testing::Test {
 protected:
  FleetPriorsTest() : pool_(Backends()), clock_(TimePoint{} + seconds(100)), monitor_(pool_, clock_.Now()) {}

  static std::vector<BackendOptions> Backends() {
    BackendOptions edge;
    edge.name = "edge-mec";
    edge.tier = Tier::kEdge;
    edge.url = "http://127.0.0.1:1/v1";
    edge.models = {"m"};
    edge.expect.ttft_ms = 200;
    edge.expect.rtt_ms = 20;
    edge.expect.tokens_per_s = 50;
    BackendOptions cloud = edge;
    cloud.name = "cloud-api";
    cloud.tier = Tier::kCloud;
    cloud.expect.ttft_ms = 600;
    return {edge, cloud};
  }

  static FleetState Slow(double ttft_s, double weight) {
    FleetState s;
    s.generated_unix_ms = 1700000000000;
    FleetBackendState b;
    b.name = "edge-mec";
    b.tier = "edge";
    b.ttft = {ttft_s, 0.3, weight};
    b.tpot = {0.05, 0.2, weight};
    b.rtt = {0.02, 0.5, 4};
    s.backends.push_back(b);
    return s;
  }

  FleetApplyOptions Options() const {
    FleetApplyOptions o;
    o.max_weight = 5;
    o.valid_for = seconds(30);
    o.down_for_unhealthy = seconds(10);
    return o;
  }

  double EdgeTtft() { return monitor_.View(0, clock_.Now()).ttft.Median(); }

  void ObserveEdge(double ttft_s, int n, milliseconds every) {
    for (int i = 0; i < n; ++i) {
      AttemptOutcome o;
      o.ttft_s = ttft_s;
      monitor_.OnAttemptEnd(0, o, clock_.Now());
      clock_.Advance(every);
    }
  }

  BackendPool pool_;
  ManualClock clock_;
  BackendMonitor monitor_;
};

TEST_F(FleetPriorsTest, RemoteSlowMakesTheEstimateSlow) {
  EXPECT_NEAR(EdgeTtft(), 0.2, 1e-9);
  const FleetApplyResult r = ApplyFleetState(Slow(3.0, 20), pool_, monitor_, Options(), clock_.Now());
  EXPECT_EQ(r.matched, 1);
  EXPECT_EQ(r.down, 0);
  EXPECT_FALSE(r.changed);
  const BackendView v = monitor_.View(0, clock_.Now());
  EXPECT_TRUE(v.fleet_prior);
  // The publisher's RTT (20 ms) out, ours (the configured 20 ms) in: 3 s.
  EXPECT_NEAR(v.ttft.Median(), 3.0, 1e-6);
  EXPECT_NEAR(v.tpot.Median(), 0.05, 1e-9);
  EXPECT_EQ(v.ttft.n, 0);  // still no local data
  EXPECT_FALSE(monitor_.View(1, clock_.Now()).fleet_prior);  // the cloud was not named
  // The snapshot routing reads carries it after the next publication.
  monitor_.Publish(clock_.Now());
  EXPECT_NEAR(monitor_.Current().backends[0].ttft.Median(), 3.0, 1e-6);
}

TEST_F(FleetPriorsTest, LocalDataThenDominates) {
  ApplyFleetState(Slow(3.0, 20), pool_, monitor_, Options(), clock_.Now());  // weight capped at 5
  // One local observation of 0.2 s barely moves it: the prior is 5 pseudo-observations.
  ObserveEdge(0.2, 1, milliseconds(100));
  EXPECT_GT(EdgeTtft(), 1.5);
  // Ten observations a second for 3 s (~30 samples, decayed to ~22 of weight): local data win.
  ObserveEdge(0.2, 30, milliseconds(100));
  EXPECT_LT(EdgeTtft(), 0.4);
  EXPECT_GT(monitor_.View(0, clock_.Now()).ttft.n, 5.0);
  EXPECT_TRUE(monitor_.View(0, clock_.Now()).fleet_prior);  // still in effect, just outweighed
}

TEST_F(FleetPriorsTest, StaleStateFallsBackToTheConfiguredPrior) {
  ApplyFleetState(Slow(3.0, 20), pool_, monitor_, Options(), clock_.Now());
  clock_.Advance(seconds(29));
  EXPECT_NEAR(EdgeTtft(), 3.0, 1e-6);
  clock_.Advance(seconds(1));  // valid_for has passed with no new pull
  EXPECT_FALSE(monitor_.View(0, clock_.Now()).fleet_prior);
  EXPECT_NEAR(EdgeTtft(), 0.2, 1e-9);
  // A fresh pull whose publisher knows nothing of the edge (weight below kMinFleetWeight) resets an override at once.
  ApplyFleetState(Slow(3.0, 20), pool_, monitor_, Options(), clock_.Now());
  EXPECT_NEAR(EdgeTtft(), 3.0, 1e-6);
  ApplyFleetState(Slow(3.0, 0.1), pool_, monitor_, Options(), clock_.Now());
  EXPECT_NEAR(EdgeTtft(), 0.2, 1e-9);
}

TEST_F(FleetPriorsTest, RemoteEjectionTakesTheBackendOutWithoutLocalEvidence) {
  FleetState s = Slow(3.0, 20);
  s.backends[0].health = HealthState::kEjected;
  s.backends[0].ejected_for_s = 8;
  const FleetApplyResult r = ApplyFleetState(s, pool_, monitor_, Options(), clock_.Now());
  EXPECT_EQ(r.down, 1);
  EXPECT_TRUE(r.changed);
  monitor_.Publish(clock_.Now());
  const BackendView& v = monitor_.Current().backends[0];
  EXPECT_EQ(v.health, HealthState::kEjected);
  EXPECT_FALSE(v.routable);
  EXPECT_NEAR(v.ejected_for_s, 8, 1e-9);
  EXPECT_EQ(v.ejections, 0);  // not this gateway's own
  // The next pull repeats the same ejection (less the time passed): nothing changes, nothing counted.
  clock_.Advance(seconds(2));
  s.backends[0].ejected_for_s = 6;
  EXPECT_FALSE(ApplyFleetState(s, pool_, monitor_, Options(), clock_.Now()).changed);
  EXPECT_EQ(monitor_.View(0, clock_.Now()).peer_ejections, 1);
  // The ejection ends on its own: half-open, one probe may go.
  clock_.Advance(seconds(6));
  EXPECT_EQ(monitor_.View(0, clock_.Now()).health, HealthState::kHalfOpen);
}

TEST_F(FleetPriorsTest, RemoteUnhealthyIsOutForOneInterval) {
  FleetState s = Slow(0.2, 20);
  s.backends[0].health = HealthState::kUnhealthy;
  EXPECT_TRUE(ApplyFleetState(s, pool_, monitor_, Options(), clock_.Now()).changed);
  EXPECT_NEAR(monitor_.View(0, clock_.Now()).ejected_for_s, 10, 1e-9);
  clock_.Advance(seconds(10));
  EXPECT_EQ(monitor_.View(0, clock_.Now()).health, HealthState::kHalfOpen);
}

TEST_F(FleetPriorsTest, MatchesByNameAndTier) {
  FleetState s = Slow(3.0, 20);
  s.backends[0].tier = "cloud";  // same name, another tier: a different deployment's backend
  s.backends.push_back(Slow(3.0, 20).backends[0]);
  s.backends.back().name = "unknown-here";
  EXPECT_EQ(ApplyFleetState(s, pool_, monitor_, Options(), clock_.Now()).matched, 0);
  EXPECT_NEAR(EdgeTtft(), 0.2, 1e-9);
}

TEST(FleetPriorFor, SwapsThePublishersRttForOurs) {
  FleetBackendState b;
  b.ttft = {1.0, 0.4, 3};
  b.rtt = {0.3, 0.5, 3};
  b.tpot = {0.02, 0.3, 0.2};  // too little evidence: the configured prior stays
  FleetApplyOptions o;
  o.max_weight = 2;
  const FleetPrior p = FleetPriorFor(b, 0.05, o);
  ASSERT_TRUE(p.ttft.has_value());
  EXPECT_NEAR(p.ttft->median_s, 0.75, 1e-12);
  EXPECT_EQ(p.ttft->sigma, 0.4);
  EXPECT_EQ(p.ttft->weight, 2);  // capped
  EXPECT_FALSE(p.tpot.has_value());
  EXPECT_EQ(p.down_for, Duration::zero());
  b.rtt.median_s = 5;  // an RTT larger than the TTFT: never below a tenth of the TTFT
  EXPECT_NEAR(FleetPriorFor(b, 0.05, o).ttft->median_s, 0.15, 1e-12);
}

}  // namespace
}  // namespace mec

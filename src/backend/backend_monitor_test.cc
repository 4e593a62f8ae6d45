#include "backend/backend_monitor.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <thread>

namespace mec {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

std::vector<BackendOptions> TwoBackends() {
  BackendOptions edge;
  edge.name = "edge-1";
  edge.tier = Tier::kEdge;
  edge.url = "http://127.0.0.1:1/v1";
  edge.models = {"m"};
  edge.max_concurrency = 8;
  BackendOptions cloud = edge;
  cloud.name = "cloud-1";
  cloud.tier = Tier::kCloud;
  cloud.max_concurrency = 256;
  cloud.expect.ttft_ms = 450;
  return {edge, cloud};
}

class MonitorTest : public ::testing::Test {
 protected:
  MonitorTest() : pool_(TwoBackends()), clock_(TimePoint{} + seconds(100)), monitor_(pool_, clock_.Now()) {}
  AttemptOutcome Outcome(AttemptResult k) {
    AttemptOutcome o;
    o.result = k;
    return o;
  }
  BackendPool pool_;
  ManualClock clock_;
  BackendMonitor monitor_;
};

TEST_F(MonitorTest, InitialSnapshotFromPriors) {
  const PoolSnapshot& s = monitor_.Current();
  EXPECT_EQ(s.version, 1u);
  EXPECT_EQ(s.taken, clock_.Now());
  ASSERT_EQ(s.backends.size(), 2u);
  const BackendView& edge = s.backends[0];
  EXPECT_EQ(edge.index, 0);
  EXPECT_EQ(edge.health, HealthState::kHealthy);
  EXPECT_TRUE(edge.routable);
  EXPECT_EQ(edge.capacity, 8);
  EXPECT_EQ(edge.in_flight, 0);
  EXPECT_NEAR(edge.ttft.Median(), 0.2, 1e-9);    // edge tier default
  EXPECT_NEAR(edge.tpot.Median(), 1.0 / 70, 1e-9);
  EXPECT_NEAR(edge.rtt.Median(), 0.02, 1e-9);
  EXPECT_EQ(edge.ttft.n, 0);
  EXPECT_NEAR(s.backends[1].ttft.Median(), 0.45, 1e-9);  // from expect
  EXPECT_EQ(s.backends[1].capacity, 256);
}

TEST_F(MonitorTest, SnapshotReflectsInFlightOnlyAfterPublish) {
  const PoolSnapshot* before = &monitor_.Current();
  {
    InFlightGuard a(pool_.at(1)), b(pool_.at(1));
    EXPECT_EQ(monitor_.Current().backends[1].in_flight, 0);  // immutable until the next Publish
    clock_.Advance(milliseconds(100));
    monitor_.Publish(clock_.Now());
    EXPECT_EQ(monitor_.Current().backends[1].in_flight, 2);
    EXPECT_EQ(monitor_.Current().version, 2u);
    EXPECT_EQ(before->backends[1].in_flight, 0);  // the old one is still alive and unchanged
  }
  monitor_.Publish(clock_.Now());
  EXPECT_EQ(monitor_.Current().backends[1].in_flight, 0);
}

TEST_F(MonitorTest, EjectionAndHalfOpenProbeInSnapshot) {
  const auto local = Outcome(AttemptResult::kConnect);
  EXPECT_FALSE(monitor_.OnAttemptEnd(0, local, clock_.Now()));
  EXPECT_FALSE(monitor_.OnAttemptEnd(0, local, clock_.Now()));
  EXPECT_TRUE(monitor_.OnAttemptEnd(0, local, clock_.Now()));  // third in a row: ejected
  EXPECT_EQ(monitor_.Current().backends[0].health, HealthState::kHealthy);
  monitor_.Publish(clock_.Now());
  const BackendView& v = monitor_.Current().backends[0];
  EXPECT_EQ(v.health, HealthState::kEjected);
  EXPECT_FALSE(v.routable);
  EXPECT_EQ(v.ejections, 1);
  EXPECT_NEAR(v.ejected_for_s, 10, 1e-9);
  EXPECT_GT(v.error_rate, 0.7);  // 3 failures + 1 pseudo-success
  EXPECT_TRUE(monitor_.Current().backends[1].routable);
  EXPECT_FALSE(monitor_.AdmitAttempt(0, clock_.Now()));
  EXPECT_TRUE(monitor_.AdmitAttempt(1, clock_.Now()));

  clock_.Advance(seconds(4));
  monitor_.Publish(clock_.Now());
  EXPECT_NEAR(monitor_.Current().backends[0].ejected_for_s, 6, 1e-9);

  clock_.Advance(seconds(6));
  monitor_.Publish(clock_.Now());
  EXPECT_EQ(monitor_.Current().backends[0].health, HealthState::kHalfOpen);
  EXPECT_TRUE(monitor_.Current().backends[0].routable);
  EXPECT_TRUE(monitor_.AdmitAttempt(0, clock_.Now()));   // this request is the probe
  EXPECT_FALSE(monitor_.AdmitAttempt(0, clock_.Now()));  // the next must wait
  EXPECT_FALSE(monitor_.TryClaimProbe(0, clock_.Now()));
  monitor_.Publish(clock_.Now());
  EXPECT_EQ(monitor_.Current().backends[0].health, HealthState::kHalfOpen);
  EXPECT_FALSE(monitor_.Current().backends[0].routable);

  // The probe fails: ejected again, twice as long.
  EXPECT_TRUE(monitor_.OnAttemptEnd(0, Outcome(AttemptResult::kServerError), clock_.Now()));
  monitor_.Publish(clock_.Now());
  EXPECT_NEAR(monitor_.Current().backends[0].ejected_for_s, 20, 1e-9);
  EXPECT_EQ(monitor_.Current().backends[0].ejections, 2);

  clock_.Advance(seconds(20));
  EXPECT_TRUE(monitor_.TryClaimProbe(0, clock_.Now()));
  AttemptOutcome ok = Outcome(AttemptResult::kOk);
  ok.ttft_s = 0.25;
  EXPECT_TRUE(monitor_.OnAttemptEnd(0, ok, clock_.Now()));
  monitor_.Publish(clock_.Now());
  EXPECT_EQ(monitor_.Current().backends[0].health, HealthState::kHealthy);
  EXPECT_TRUE(monitor_.AdmitAttempt(0, clock_.Now()));
  EXPECT_TRUE(monitor_.AdmitAttempt(0, clock_.Now()));
}

TEST_F(MonitorTest, RateLimitsAndCancellationsDoNotEject) {
  for (int i = 0; i < 50; ++i) {
    monitor_.OnAttemptEnd(0, Outcome(AttemptResult::kRateLimited), clock_.Now());
    monitor_.OnAttemptEnd(0, Outcome(AttemptResult::kCancelled), clock_.Now());
  }
  monitor_.Publish(clock_.Now());
  const BackendView& v = monitor_.Current().backends[0];
  EXPECT_EQ(v.health, HealthState::kHealthy);
  EXPECT_EQ(v.error_rate, 0);
  EXPECT_NEAR(v.rate_limited_rate, 50.0 / 51, 1e-9);
}

TEST_F(MonitorTest, EstimatesFollowOutcomes) {
  for (int i = 0; i < 100; ++i) {
    AttemptOutcome o = Outcome(AttemptResult::kOk);
    o.ttft_s = 0.8;
    o.tpot_s = 0.04;
    o.output_tokens = 100;
    monitor_.OnAttemptEnd(0, o, clock_.Now());
    clock_.Advance(milliseconds(50));
  }
  monitor_.Publish(clock_.Now());
  const BackendView& v = monitor_.Current().backends[0];
  EXPECT_NEAR(v.ttft.Median(), 0.8, 0.02);
  EXPECT_NEAR(v.tpot.Median(), 0.04, 0.001);
  EXPECT_GT(v.ttft.n, 20);
  EXPECT_NEAR(v.rtt.Median(), 0.02, 1e-9);  // untouched
}

// The snapshot carries each estimate's median (LogNormalEstimate::CacheMedian), equal bit for bit to
// exp(mu), and a publication after new outcomes refreshes it.
TEST_F(MonitorTest, PublishedSnapshotCachesMedians) {
  auto expect_cached = [](const LogNormalEstimate& e) {
    EXPECT_EQ(e.median_mu, e.mu);
    EXPECT_EQ(e.median_s, std::exp(e.mu));
  };
  const double before = monitor_.Current().backends[0].ttft.median_s;
  for (const auto& v : monitor_.Current().backends) expect_cached(v.rtt), expect_cached(v.ttft), expect_cached(v.tpot);
  AttemptOutcome o = Outcome(AttemptResult::kOk);
  o.ttft_s = 0.9;
  o.tpot_s = 0.05;
  o.output_tokens = 100;
  monitor_.OnAttemptEnd(0, o, clock_.Now());
  clock_.Advance(milliseconds(50));
  monitor_.Publish(clock_.Now());
  const BackendView& v = monitor_.Current().backends[0];
  EXPECT_GT(v.ttft.median_s, before);  // refreshed: 0.9 s pulls the 0.2 s prior up
  for (const auto& w : monitor_.Current().backends) expect_cached(w.rtt), expect_cached(w.ttft), expect_cached(w.tpot);
  expect_cached(monitor_.View(0, clock_.Now()).ttft);
}

TEST_F(MonitorTest, CensoredWaitsMakeASlowBackendLookSlow) {
  // Every attempt times out at 2 s without a first byte: no TTFT is ever measured.
  for (int i = 0; i < 20; ++i) {
    AttemptOutcome o = Outcome(AttemptResult::kCancelled);  // e.g. hedges that lost
    o.waited_s = 2.0;
    monitor_.OnAttemptEnd(0, o, clock_.Now());
    clock_.Advance(milliseconds(200));
  }
  EXPECT_GT(monitor_.View(0, clock_.Now()).ttft.Median(), 1.5);
  // Short waits (a client that left early) say nothing and are ignored.
  AttemptOutcome quick = Outcome(AttemptResult::kCancelled);
  quick.waited_s = 0.01;
  const double before = monitor_.View(1, clock_.Now()).ttft.n;
  monitor_.OnAttemptEnd(1, quick, clock_.Now());
  EXPECT_EQ(monitor_.View(1, clock_.Now()).ttft.n, before);
}

TEST_F(MonitorTest, HealthChecksFeedHealthAndRtt) {
  EXPECT_TRUE(monitor_.OnHealthCheck(1, false, std::nullopt, clock_.Now()));  // first result decides
  monitor_.Publish(clock_.Now());
  EXPECT_EQ(monitor_.Current().backends[1].health, HealthState::kUnhealthy);
  EXPECT_FALSE(monitor_.Current().backends[1].routable);
  clock_.Advance(seconds(5));
  EXPECT_FALSE(monitor_.OnHealthCheck(1, true, 0.09, clock_.Now()));
  clock_.Advance(seconds(5));
  EXPECT_TRUE(monitor_.OnHealthCheck(1, true, 0.09, clock_.Now()));  // healthy_threshold 2
  monitor_.Publish(clock_.Now());
  const BackendView& v = monitor_.Current().backends[1];
  EXPECT_EQ(v.health, HealthState::kHealthy);
  EXPECT_TRUE(v.routable);
  EXPECT_GT(v.rtt.n, 1);
  EXPECT_LT(v.rtt.Median(), 0.1);  // pulled from the 100 ms prior towards 90 ms
  EXPECT_GT(v.rtt.Median(), 0.09);
}

TEST_F(MonitorTest, APassingHealthCheckTurnsAnEjectedBackendHalfOpen) {
  for (int i = 0; i < 5; ++i) monitor_.OnAttemptEnd(0, Outcome(AttemptResult::kServerError), clock_.Now());
  monitor_.Publish(clock_.Now());
  ASSERT_EQ(monitor_.Current().backends[0].health, HealthState::kEjected);
  clock_.Advance(seconds(1));
  EXPECT_TRUE(monitor_.OnHealthCheck(0, true, 0.02, clock_.Now()));  // the ejection changed: publish
  monitor_.Publish(clock_.Now());
  EXPECT_EQ(monitor_.Current().backends[0].health, HealthState::kHalfOpen);
  EXPECT_TRUE(monitor_.Current().backends[0].routable);
  EXPECT_TRUE(monitor_.TryClaimProbe(0, clock_.Now()));
  EXPECT_FALSE(monitor_.TryClaimProbe(0, clock_.Now()));  // one probe
}

TEST_F(MonitorTest, WithUnejectOffAnEjectionRunsItsTime) {
  auto opts = pool_.at(0).options();
  opts.outlier.uneject_on_health_check = false;
  BackendPool pool(std::vector<BackendOptions>{opts});
  BackendMonitor monitor(pool, clock_.Now());
  for (int i = 0; i < 5; ++i) monitor.OnAttemptEnd(0, Outcome(AttemptResult::kServerError), clock_.Now());
  clock_.Advance(seconds(1));
  monitor.OnHealthCheck(0, true, 0.02, clock_.Now());
  monitor.Publish(clock_.Now());
  EXPECT_EQ(monitor.Current().backends[0].health, HealthState::kEjected);
}

TEST_F(MonitorTest, NextHealthCheckDelay) {
  Rng rng(1, "t");
  for (int i = 0; i < 1000; ++i) {
    const Duration d = monitor_.NextHealthCheckDelay(0, rng);
    ASSERT_GE(d, milliseconds(4000));
    ASSERT_LE(d, milliseconds(6000));
  }
}

TEST_F(MonitorTest, VersionsIncreaseAndOldSnapshotsAreRetained) {
  std::vector<const PoolSnapshot*> seen;
  for (int i = 0; i < BackendMonitor::kRetainedSnapshots; ++i) {
    seen.push_back(&monitor_.Current());
    monitor_.Publish(clock_.Now());
  }
  // All still readable (ASan would catch a use after free).
  uint64_t v = 0;
  for (const auto* s : seen) {
    EXPECT_GT(s->version, v);
    v = s->version;
    EXPECT_EQ(s->backends.size(), 2u);
  }
  for (int i = 0; i < 1000; ++i) {  // time passes: old ones are freed, memory stays bounded
    clock_.Advance(milliseconds(100));
    monitor_.Publish(clock_.Now());
  }
  EXPECT_EQ(monitor_.Current().version, 1u + BackendMonitor::kRetainedSnapshots + 1000);
}

// Writers report outcomes and hold in-flight guards, a publisher publishes, readers read the
// current snapshot without locks. Run under ASan/TSan-like scrutiny: no use after free, no torn data.
TEST(MonitorConcurrency, WritersPublisherReaders) {
  BackendPool pool(TwoBackends());
  std::atomic<int64_t> now_ns{seconds(100).count()};
  auto now = [&] { return TimePoint{} + Duration(now_ns.load(std::memory_order_relaxed)); };
  BackendMonitor monitor(pool, now());
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int w = 0; w < 3; ++w) {
    threads.emplace_back([&, w] {
      Rng rng(w, "writer");
      for (int i = 0; i < 20000; ++i) {
        const int b = static_cast<int>(rng.Below(2));
        InFlightGuard guard(pool.at(b));
        AttemptOutcome o;
        const double u = rng.Uniform();
        o.result = u < 0.9 ? AttemptResult::kOk
                 : u < 0.95 ? AttemptResult::kServerError
                            : AttemptResult::kConnect;
        o.ttft_s = 0.1 + rng.Uniform();
        o.tpot_s = 0.01;
        monitor.OnAttemptEnd(b, o, now());
        if (rng.Bernoulli(0.01)) monitor.AdmitAttempt(b, now());
        if (rng.Bernoulli(0.01)) monitor.OnHealthCheck(b, rng.Bernoulli(0.8), 0.02, now());
      }
    });
  }
  threads.emplace_back([&] {
    while (!stop.load()) {
      now_ns.fetch_add(milliseconds(1).count());
      monitor.Publish(now());
    }
  });
  std::atomic<int64_t> reads{0};
  for (int r = 0; r < 2; ++r) {
    threads.emplace_back([&] {
      uint64_t last = 0;
      while (!stop.load()) {
        const PoolSnapshot& s = monitor.Current();
        ASSERT_GE(s.version, last);
        last = s.version;
        ASSERT_EQ(s.backends.size(), 2u);
        for (const auto& v : s.backends) {
          ASSERT_GE(v.in_flight, 0);
          ASSERT_LE(v.in_flight, 3);
          ASSERT_GT(v.ttft.Median(), 0);
        }
        reads.fetch_add(1);
      }
    });
  }
  for (int w = 0; w < 3; ++w) threads[w].join();
  stop = true;
  for (size_t i = 3; i < threads.size(); ++i) threads[i].join();
  EXPECT_GT(reads.load(), 0);
  monitor.Publish(now());
  for (const auto& v : monitor.Current().backends) EXPECT_EQ(v.in_flight, 0);
}

}  // namespace
}  // namespace mec

namespace mec {
namespace {

// Three edge replicas and one cloud backend: ejecting more than half of the edge tier puts the
// tier in panic (ejection ignored there); ejecting everything puts every tier in panic.
TEST(MonitorPanic, PerTierAndPoolWide) {
  std::vector<BackendOptions> v;
  for (const char* n : {"edge-1", "edge-2", "edge-3", "cloud"}) {
    BackendOptions o;
    o.name = n;
    o.tier = std::string_view(n) == "cloud" ? Tier::kCloud : Tier::kEdge;
    o.url = "http://127.0.0.1:1/v1";
    o.models = {"m"};
    v.push_back(o);
  }
  BackendPool pool(v);
  ManualClock clock(TimePoint{} + std::chrono::seconds(100));
  BackendMonitor monitor(pool, clock.Now());
  AttemptOutcome fail;
  fail.result = AttemptResult::kConnect;
  auto eject = [&](int b) {
    for (int i = 0; i < 3; ++i) monitor.OnAttemptEnd(b, fail, clock.Now());
    monitor.Publish(clock.Now());
  };
  eject(0);
  EXPECT_FALSE(monitor.InPanic(Tier::kEdge));  // 1 of 3
  EXPECT_FALSE(monitor.Current().backends[0].routable);
  EXPECT_FALSE(monitor.AdmitAttempt(0, clock.Now()));
  eject(1);  // 2 of 3 > half
  EXPECT_TRUE(monitor.InPanic(Tier::kEdge));
  EXPECT_FALSE(monitor.InPanic(Tier::kCloud));
  for (int b : {0, 1}) {
    EXPECT_EQ(monitor.Current().backends[b].health, HealthState::kEjected);
    EXPECT_TRUE(monitor.Current().backends[b].routable);
    EXPECT_TRUE(monitor.Current().backends[b].panic);
    EXPECT_TRUE(monitor.AdmitAttempt(b, clock.Now()));
  }
  monitor.SetPanicThreshold(1);  // per tier off: the pool-wide rule stays
  monitor.Publish(clock.Now());
  EXPECT_FALSE(monitor.InPanic(Tier::kEdge));
  EXPECT_FALSE(monitor.AdmitAttempt(0, clock.Now()));
  eject(2);
  eject(3);  // the whole pool
  EXPECT_TRUE(monitor.InPanic(Tier::kEdge));
  EXPECT_TRUE(monitor.InPanic(Tier::kCloud));
  EXPECT_TRUE(monitor.Current().backends[3].routable);
  EXPECT_TRUE(monitor.AdmitAttempt(3, clock.Now()));
}

}  // namespace
}  // namespace mec

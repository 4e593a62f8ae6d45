#include <gtest/gtest.h>

#include <cmath>

#include "state/replica_sync.h"

namespace mec {
namespace {

BackendOptions EdgeBackend() {
  BackendOptions b;
  b.name = "edge";
  b.tier = Tier::kEdge;
  b.url = "http://127.0.0.1:1/v1";
  b.models = {"m"};
  return b;
}

TEST(ReplicaReport, RoundTripsAndRejectsGarbage) {
  ReplicaReport r;
  r.seq = 42;
  r.unix_ms = 1700000000123;
  r.n_ttft = 3;
  r.mean_log_ttft = std::log(0.25);
  r.n_tpot = 0;
  auto back = ParseReport(FormatReport(r));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->seq, 42u);
  EXPECT_EQ(back->unix_ms, 1700000000123);
  EXPECT_DOUBLE_EQ(back->n_ttft, 3);
  EXPECT_NEAR(std::exp(back->mean_log_ttft), 0.25, 1e-6);
  EXPECT_FALSE(ParseReport(""));
  EXPECT_FALSE(ParseReport("1 2 3"));
  EXPECT_FALSE(ParseReport("1 2 nan 0 0 0"));
  EXPECT_FALSE(ParseReport("1 2 -1 0 0 0"));
}

// With Redis unreachable the replica keeps its local state: SyncOnce neither throws nor blocks
// for long, the failure is counted and named, and local observations are not held back forever.
TEST(ReplicaSync, UnreachableRedisIsCountedNotFatal) {
  BackendPool pool({EdgeBackend()});
  ManualClock clock;
  BackendMonitor monitor(pool, clock.Now());
  StateOptions o;
  o.redis_host = "127.0.0.1";
  o.redis_port = 1;  // nothing listens on port 1
  ReplicaSync sync(o, pool, monitor, clock, "r1");
  sync.Note(0, 0.5, 0.02);
  const double before = monitor.View(0, clock.Now()).ttft.Median();
  sync.SyncOnce();
  sync.SyncOnce();
  const auto st = sync.status();
  EXPECT_FALSE(st.connected);
  EXPECT_EQ(st.errors, 2u);
  EXPECT_FALSE(st.last_error.empty());
  EXPECT_EQ(st.reports_sent, 0u);
  EXPECT_DOUBLE_EQ(monitor.View(0, clock.Now()).ttft.Median(), before);  // nothing remote was applied
  EXPECT_NE(sync.StatusJson().find("\"redis\":\"down\""), std::string::npos) << sync.StatusJson();
}

// A remote observation moves the local estimate the way a local one would.
TEST(ReplicaSync, RemoteObservationsEnterTheEstimators) {
  BackendPool pool({EdgeBackend()});
  ManualClock clock;
  BackendMonitor monitor(pool, clock.Now());
  const double before = monitor.View(0, clock.Now()).ttft.Median();
  for (int i = 0; i < 5; ++i) {
    clock.Advance(FromMillis(500));
    monitor.OnRemoteObservation(0, before * 20, std::nullopt, 5, clock.Now());
  }
  EXPECT_GT(monitor.View(0, clock.Now()).ttft.Median(), 5 * before);
}

}  // namespace
}  // namespace mec

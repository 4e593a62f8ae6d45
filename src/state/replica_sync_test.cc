#include <gtest/gtest.h>

#include <cmath>

#include "state/replica_sync.h"
#include "state/state_metrics.h"
#include "state/test_redis_server.h"

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
  EXPECT_NE(StateJson(&sync, nullptr).find("\"redis\":\"down\""), std::string::npos) << StateJson(&sync, nullptr);
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

TEST(PeerEjection, ParsesAndRejects) {
  auto e = ParseEjection("3 1700000000000 1700000010000");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->count, 3);
  EXPECT_EQ(e->until_ms - e->unix_ms, 10000);
  EXPECT_FALSE(ParseEjection(""));
  EXPECT_FALSE(ParseEjection("0 1 2"));   // no ejection
  EXPECT_FALSE(ParseEjection("1 5 4"));   // ends before it starts
  EXPECT_FALSE(ParseEjection("1 x 4"));
}

// Two replicas on one real redis-server: the backend one ejects on its own failures is taken out
// by the other at its next sync, for the rest of that ejection, once; it is not echoed back; a
// report older than stale_ms is ignored; with ejection sharing off nothing travels.
TEST(ReplicaSync, EjectionsTravelThroughRealRedis) {
  testing::TestRedisServer redis;
  ASSERT_TRUE(redis.ready()) << "redis-server did not start (scripts/setup.sh installs it)";
  // A second backend in each pool: with the first ejected the pool is not all out (which would
  // put it in panic, backend/backend_monitor.h, and keep it routable).
  BackendOptions other = EdgeBackend();
  other.name = "cloud-1";
  other.tier = Tier::kCloud;
  BackendPool pool_a({EdgeBackend(), other}), pool_b({EdgeBackend(), other}), pool_c({EdgeBackend(), other});
  ManualClock clock;
  BackendMonitor a(pool_a, clock.Now()), b(pool_b, clock.Now()), c(pool_c, clock.Now());
  StateOptions o;
  o.redis_host = "127.0.0.1";
  o.redis_port = redis.port();
  StateOptions off = o;
  off.share_ejections = false;
  ReplicaSync sa(o, pool_a, a, clock, "a"), sb(o, pool_b, b, clock, "b"), sc(off, pool_c, c, clock, "c");
  AttemptOutcome fail;
  fail.result = AttemptResult::kServerError;
  for (int i = 0; i < 5; ++i) a.OnAttemptEnd(0, fail, clock.Now());
  ASSERT_EQ(a.View(0, clock.Now()).health, HealthState::kEjected);
  const double left = a.View(0, clock.Now()).ejected_for_s;
  ASSERT_GT(left, 1);
  sa.SyncOnce();
  sb.SyncOnce();
  sc.SyncOnce();
  EXPECT_EQ(sa.status().ejections_sent, 1u);
  const BackendView vb = b.View(0, clock.Now());
  EXPECT_EQ(vb.health, HealthState::kEjected);
  EXPECT_EQ(vb.peer_ejections, 1);
  EXPECT_EQ(vb.ejections, 0);  // not b's own: b will not echo it
  EXPECT_NEAR(vb.ejected_for_s, left, 0.01);
  EXPECT_FALSE(b.Current().backends[0].routable);  // published: routing sees it at once
  EXPECT_EQ(c.View(0, clock.Now()).health, HealthState::kHealthy);  // sharing off
  sb.SyncOnce();
  sa.SyncOnce();
  EXPECT_EQ(sb.status().ejections_applied, 1u);  // once
  EXPECT_EQ(sb.status().ejections_sent, 0u);
  EXPECT_EQ(a.View(0, clock.Now()).peer_ejections, 0);  // no echo
  // A later ejection by a, reported after more than stale_ms, is ignored by b.
  clock.Advance(FromSeconds(left + 1));
  b.OnAttemptEnd(0, AttemptOutcome{}, clock.Now());  // b's probe succeeds: back in service
  a.TryClaimProbe(0, clock.Now());
  a.OnAttemptEnd(0, fail, clock.Now());  // a's probe fails: ejected again, for longer
  sa.SyncOnce();
  clock.Advance(FromMillis(o.stale_ms + 1000));
  ASSERT_EQ(a.View(0, clock.Now()).health, HealthState::kEjected);
  sb.SyncOnce();
  EXPECT_EQ(b.View(0, clock.Now()).health, HealthState::kHealthy);
  EXPECT_EQ(sb.status().ejections_applied, 1u);
}

}  // namespace
}  // namespace mec

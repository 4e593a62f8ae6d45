#include <gtest/gtest.h>

#include <thread>

#include "state/learning_sync.h"
#include "state/test_redis_server.h"

namespace mec {
namespace {

StateOptions At(int port) {
  StateOptions o;
  o.redis_host = "127.0.0.1";
  o.redis_port = port;
  return o;
}

// Two replicas and a real redis-server: each sees the other's rows, never its own.
TEST(LearningSync, RowsReachTheOtherReplicasOnly) {
  testing::TestRedisServer redis;
  ASSERT_TRUE(redis.ready());
  LearningSync a(At(redis.port()), "a", 2000, 1000), b(At(redis.port()), "b", 2000, 1000);
  size_t sent = 0;
  ASSERT_TRUE(a.Push({"row 1", "row\t2"}, &sent));
  EXPECT_EQ(sent, 2u);
  auto got = b.Pull();
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, (std::vector<std::string>{"row 1", "row\t2"}));
  auto own = a.Pull();
  ASSERT_TRUE(own);
  EXPECT_TRUE(own->empty());
  // The next pull resumes after the last entry read: nothing twice.
  ASSERT_TRUE(a.Push({"row 3"}, &sent));
  ASSERT_TRUE(b.Push({"from b"}, &sent));
  got = b.Pull();
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, (std::vector<std::string>{"row 3"}));
  own = a.Pull();
  ASSERT_TRUE(own);
  EXPECT_EQ(*own, (std::vector<std::string>{"from b"}));
  EXPECT_EQ(a.status().pushed, 2u + 1u);
  EXPECT_EQ(b.status().pulled, 3u);
}

// More rows than one XRANGE batch arrive whole and in order.
TEST(LearningSync, PullsLongStreamsInBatches) {
  testing::TestRedisServer redis;
  ASSERT_TRUE(redis.ready());
  LearningSync a(At(redis.port()), "a", 2000, 100000), b(At(redis.port()), "b", 2000, 100000);
  std::vector<std::string> rows;
  for (int i = 0; i < 2500; ++i) rows.push_back("r" + std::to_string(i));
  size_t sent = 0;
  ASSERT_TRUE(a.Push(rows, &sent));
  auto got = b.Pull();
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, rows);
}

// One trainer at a time; only it publishes; a lapsed or released lease passes to another.
TEST(LearningSync, LeaseMakesOneTrainerAndFencesPublishing) {
  testing::TestRedisServer redis;
  ASSERT_TRUE(redis.ready());
  LearningSync a(At(redis.port()), "a", 1000, 1000), b(At(redis.port()), "b", 1000, 1000);
  EXPECT_TRUE(a.HoldLease());
  EXPECT_FALSE(b.HoldLease());
  EXPECT_TRUE(a.HoldLease());  // renewed
  EXPECT_TRUE(a.status().trainer);
  EXPECT_FALSE(b.status().trainer);
  EXPECT_FALSE(b.Publish(7, "m.v7", "text of b"));
  EXPECT_TRUE(a.Publish(3, "m.v3", "text of a"));
  EXPECT_EQ(b.PublishedVersion().value_or(-1), 3);
  auto m = b.FetchNewer(0);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->version, 3);
  EXPECT_EQ(m->name, "m.v3");
  EXPECT_EQ(m->by, "a");
  EXPECT_EQ(m->text, "text of a");
  EXPECT_FALSE(b.FetchNewer(3));
  // Released: b takes over at once; a can no longer publish.
  a.ReleaseLease();
  EXPECT_TRUE(b.HoldLease());
  EXPECT_FALSE(a.Publish(4, "m.v4", "stale"));
  EXPECT_FALSE(a.status().trainer);
  // A holder that stops renewing loses the lease after lease_ms (b's, 1 s).
  std::this_thread::sleep_for(std::chrono::milliseconds(1300));
  EXPECT_TRUE(a.HoldLease());
  EXPECT_FALSE(b.HoldLease());
}

TEST(LearningSync, SpendingAddsUpAcrossReplicas) {
  testing::TestRedisServer redis;
  ASSERT_TRUE(redis.ready());
  LearningSync a(At(redis.port()), "a", 1000, 1000), b(At(redis.port()), "b", 1000, 1000);
  EXPECT_NEAR(a.AddSpend(20000, 0.25).value_or(-1), 0.25, 1e-9);
  EXPECT_NEAR(b.AddSpend(20000, 0.5).value_or(-1), 0.75, 1e-9);
  EXPECT_NEAR(b.AddSpend(20001, 0.125).value_or(-1), 0.125, 1e-9);  // another day
  EXPECT_NEAR(a.AddSpend(20000, 0).value_or(-1), 0.75, 1e-9);
}

// Without Redis every call fails quickly, is counted, and nothing crashes or blocks for long.
TEST(LearningSync, UnreachableRedisFailsCleanly) {
  StateOptions o = At(1);  // nothing listens on port 1
  LearningSync a(o, "a", 1000, 1000);
  size_t sent = 7;
  EXPECT_FALSE(a.Push({"x"}, &sent));
  EXPECT_EQ(sent, 0u);
  EXPECT_FALSE(a.Pull());
  EXPECT_FALSE(a.HoldLease());
  EXPECT_FALSE(a.Publish(1, "n", "t"));
  EXPECT_FALSE(a.FetchNewer(0));
  EXPECT_FALSE(a.AddSpend(1, 1));
  const auto s = a.status();
  EXPECT_FALSE(s.connected);
  EXPECT_GE(s.errors, 6u);
  EXPECT_FALSE(s.last_error.empty());
}

}  // namespace
}  // namespace mec

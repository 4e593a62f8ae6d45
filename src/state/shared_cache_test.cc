#include "state/shared_cache.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>

#include "state/test_redis_server.h"

namespace mec {
namespace {

BackendOptions Backend(const std::string& name, Tier tier) {
  BackendOptions b;
  b.name = name;
  b.tier = tier;
  b.url = "http://127.0.0.1:1/v1";
  b.models = {"m"};
  return b;
}

CachedAnswer StreamAnswer() {
  CachedAnswer a;
  a.backend = 1;
  a.model = "gpt-4o";
  a.stream = true;
  a.events = {R"({"choices":[{"delta":{"content":"he:llo"}}]})", "", "12:34"};
  a.output_tokens = 7;
  return a;
}

TEST(SharedCacheFormat, RoundTripsByBackendName) {
  BackendPool pool({Backend("edge", Tier::kEdge), Backend("cloud", Tier::kCloud)});
  CachedAnswer whole;
  whole.backend = 0;
  whole.model = "llama";
  whole.content_type = "application/json";
  whole.body = std::string("{\"x\":\"a:b\\n\"}\0tail", 18);
  whole.output_tokens = 3;
  auto w = DecodeAnswer(EncodeAnswer(whole, pool), pool);
  ASSERT_TRUE(w);
  EXPECT_EQ(w->backend, 0);
  EXPECT_EQ(w->model, "llama");
  EXPECT_FALSE(w->stream);
  EXPECT_EQ(w->content_type, "application/json");
  EXPECT_EQ(w->body, whole.body);
  EXPECT_EQ(w->output_tokens, 3);
  EXPECT_TRUE(w->events.empty());

  auto s = DecodeAnswer(EncodeAnswer(StreamAnswer(), pool), pool);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->backend, 1);
  EXPECT_TRUE(s->stream);
  EXPECT_EQ(s->events, StreamAnswer().events);
  EXPECT_EQ(s->output_tokens, 7);

  // Another replica numbers its backends differently: the name decides.
  BackendPool other({Backend("cloud", Tier::kCloud), Backend("edge", Tier::kEdge)});
  auto o = DecodeAnswer(EncodeAnswer(StreamAnswer(), pool), other);
  ASSERT_TRUE(o);
  EXPECT_EQ(o->backend, 0);
  // ... and one it does not have makes the entry useless.
  BackendPool edge_only({Backend("edge", Tier::kEdge)});
  EXPECT_FALSE(DecodeAnswer(EncodeAnswer(StreamAnswer(), pool), edge_only));
}

TEST(SharedCacheFormat, RejectsEveryTruncationAndGarbage) {
  BackendPool pool({Backend("edge", Tier::kEdge), Backend("cloud", Tier::kCloud)});
  const std::string bytes = EncodeAnswer(StreamAnswer(), pool);
  for (size_t n = 0; n < bytes.size(); ++n) EXPECT_FALSE(DecodeAnswer(std::string_view(bytes).substr(0, n), pool)) << n;
  EXPECT_FALSE(DecodeAnswer(bytes + "x", pool));
  EXPECT_FALSE(DecodeAnswer("MECA1\n4:edge99999999999999999999:", pool));
  EXPECT_FALSE(DecodeAnswer("garbage", pool));
}

// With Redis unreachable a lookup is answered "absent" without a long wait, stores are dropped,
// and the failure is counted.
TEST(SharedCache, UnreachableRedisAnswersAbsent) {
  BackendPool pool({Backend("edge", Tier::kEdge)});
  SystemClock clock;
  StateOptions o;
  o.redis_host = "127.0.0.1";
  o.redis_port = 1;  // nothing listens on port 1
  SharedCache cache(o, pool, std::chrono::seconds(60), clock);
  cache.Start();
  for (int i = 0; i < 3; ++i) {
    std::promise<bool> found;
    cache.Get("k", [&found](std::shared_ptr<const CachedAnswer> a) { found.set_value(a != nullptr); });
    auto f = found.get_future();
    ASSERT_EQ(f.wait_for(std::chrono::seconds(2)), std::future_status::ready);
    EXPECT_FALSE(f.get());
  }
  CachedAnswer a;
  a.backend = 0;
  cache.Put("k", a);
  cache.Stop();
  const auto st = cache.stats();
  EXPECT_FALSE(st.connected);
  EXPECT_GE(st.errors, 1u);
  EXPECT_EQ(st.stores, 0u);
  EXPECT_EQ(st.lookups, 3u);
}

// Two replicas on one real redis-server: what one stores, the other finds; expiry is the ttl.
TEST(SharedCache, ReplicasShareAnswersThroughRealRedis) {
  testing::TestRedisServer redis;
  ASSERT_TRUE(redis.ready()) << "redis-server did not start (scripts/setup.sh installs it)";
  BackendPool pool({Backend("edge", Tier::kEdge), Backend("cloud", Tier::kCloud)});
  SystemClock clock;
  StateOptions o;
  o.redis_host = "127.0.0.1";
  o.redis_port = redis.port();
  SharedCache a(o, pool, std::chrono::seconds(60), clock), b(o, pool, std::chrono::milliseconds(300), clock);
  a.Start();
  b.Start();
  auto lookup = [](SharedCache& c, const std::string& key) {
    std::promise<std::shared_ptr<const CachedAnswer>> p;
    c.Get(key, [&p](std::shared_ptr<const CachedAnswer> x) { p.set_value(std::move(x)); });
    return p.get_future().get();
  };
  EXPECT_EQ(lookup(b, "k1"), nullptr);
  a.Put("k1", StreamAnswer());
  std::shared_ptr<const CachedAnswer> got;
  for (int i = 0; i < 100 && !got; ++i) {
    got = lookup(b, "k1");
    if (!got) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_NE(got, nullptr);
  EXPECT_EQ(got->events, StreamAnswer().events);
  EXPECT_EQ(got->backend, 1);
  EXPECT_EQ(lookup(a, "k2"), nullptr);  // a different key
  // b's ttl is 300 ms: its own store is gone after that.
  b.Put("k3", StreamAnswer());
  for (int i = 0; i < 100 && !lookup(a, "k3"); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_NE(lookup(a, "k3"), nullptr);
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  EXPECT_EQ(lookup(a, "k3"), nullptr);
  EXPECT_TRUE(b.stats().connected);
  EXPECT_GE(b.stats().hits, 1u);
}

}  // namespace
}  // namespace mec

#include <gtest/gtest.h>

#include "cache/cache_key.h"
#include "cache/response_cache.h"

namespace mec {
namespace {

ParsedRequest Parse(std::string_view body, Endpoint e = Endpoint::kChatCompletions) {
  auto r = ParseRequest(e, body);
  EXPECT_TRUE(std::holds_alternative<ParsedRequest>(r)) << body;
  return std::get<ParsedRequest>(std::move(r));
}

TEST(CacheKey, RepeatableOnlyWithTemperatureZeroOrSeed) {
  EXPECT_FALSE(Repeatable(Parse(R"({"model":"auto","messages":[{"role":"user","content":"hi"}]})")));
  EXPECT_FALSE(Repeatable(Parse(R"({"model":"auto","temperature":0.7,"messages":[{"role":"user","content":"hi"}]})")));
  EXPECT_TRUE(Repeatable(Parse(R"({"model":"auto","temperature":0,"messages":[{"role":"user","content":"hi"}]})")));
  EXPECT_TRUE(Repeatable(Parse(R"({"model":"auto","seed":7,"temperature":0.9,"messages":[{"role":"user","content":"hi"}]})")));
  EXPECT_FALSE(Repeatable(Parse(R"({"model":"auto","temperature":0,"n":3,"messages":[{"role":"user","content":"hi"}]})")));
}

TEST(CacheKey, CoversEveryFieldThatChangesTheAnswer) {
  const auto base = CacheKey(Parse(R"({"model":"auto","temperature":0,"max_tokens":5,"messages":[{"role":"user","content":"hi"}]})"));
  EXPECT_EQ(base.size(), 64u);
  // Same request, fields in another order, and with delivery-only fields: same key.
  EXPECT_EQ(base, CacheKey(Parse(R"({"messages":[{"role":"user","content":"hi"}],"max_tokens":5,"temperature":0,"model":"auto","mec":{"min_quality":0.5}})")));
  EXPECT_EQ(base, CacheKey(Parse(R"({"model":"auto","temperature":0,"max_tokens":5,"stream":false,"messages":[{"role":"user","content":"hi"}]})")));
  // Anything that changes the answer changes the key.
  for (const char* other : {
           R"({"model":"auto","temperature":0,"max_tokens":6,"messages":[{"role":"user","content":"hi"}]})",
           R"({"model":"auto","temperature":0,"max_tokens":5,"messages":[{"role":"user","content":"hi!"}]})",
           R"({"model":"auto","temperature":0,"max_tokens":5,"messages":[{"role":"system","content":"hi"}]})",
           R"({"model":"cloud","temperature":0,"max_tokens":5,"messages":[{"role":"user","content":"hi"}]})",
           R"({"model":"auto","temperature":0,"max_tokens":5,"seed":1,"messages":[{"role":"user","content":"hi"}]})",
           R"({"model":"auto","temperature":0,"max_tokens":5,"response_format":{"type":"json_object"},"messages":[{"role":"user","content":"hi"}]})",
           R"({"model":"auto","temperature":0,"max_tokens":5,"stream":true,"messages":[{"role":"user","content":"hi"}]})",
       })
    EXPECT_NE(base, CacheKey(Parse(other))) << other;
  // stream_options only changes delivery.
  EXPECT_EQ(CacheKey(Parse(R"({"model":"auto","temperature":0,"stream":true,"messages":[{"role":"user","content":"hi"}]})")),
            CacheKey(Parse(R"({"model":"auto","temperature":0,"stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]})")));
}

CachedAnswer Answer(std::string body, int backend = 1) {
  CachedAnswer a;
  a.backend = backend;
  a.model = "m";
  a.body = std::move(body);
  a.content_type = "application/json";
  return a;
}

TEST(ResponseCache, HitMissTtlAndReplace) {
  ManualClock clock;
  ResponseCache c(1 << 20, FromSeconds(10), clock);
  EXPECT_EQ(c.Get("k"), nullptr);
  c.Put("k", Answer("one"));
  auto a = c.Get("k");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->body, "one");
  c.Put("k", Answer("two"));
  EXPECT_EQ(c.Get("k")->body, "two");
  EXPECT_EQ(a->body, "one");  // a reader's copy stays valid after a replace
  clock.Advance(FromSeconds(11));
  EXPECT_EQ(c.Get("k"), nullptr);  // older than the ttl
  const auto s = c.stats();
  EXPECT_EQ(s.hits, 2u);
  EXPECT_EQ(s.misses, 2u);
  EXPECT_EQ(s.expired, 1u);
  EXPECT_EQ(s.entries, 0u);
  EXPECT_EQ(s.bytes, 0u);
}

TEST(ResponseCache, MemoryBoundEvictsLeastRecentlyUsed) {
  ManualClock clock;
  const std::string big(1000, 'x');
  const size_t one = Answer(big).Bytes() + 2 + 64;
  ResponseCache c(static_cast<int64_t>(3 * one), FromSeconds(60), clock);
  c.Put("a", Answer(big));
  c.Put("b", Answer(big));
  c.Put("c", Answer(big));
  ASSERT_NE(c.Get("a"), nullptr);  // a is now the most recently used
  c.Put("d", Answer(big));         // evicts b
  EXPECT_EQ(c.Get("b"), nullptr);
  EXPECT_NE(c.Get("a"), nullptr);
  EXPECT_NE(c.Get("c"), nullptr);
  EXPECT_NE(c.Get("d"), nullptr);
  EXPECT_LE(c.stats().bytes, 3 * one);
  EXPECT_EQ(c.stats().evictions, 1u);
  // Larger than the whole budget: not kept, nothing evicted for it.
  c.Put("huge", Answer(std::string(10 * one, 'y')));
  EXPECT_EQ(c.Get("huge"), nullptr);
  EXPECT_EQ(c.stats().entries, 3u);
}

}  // namespace
}  // namespace mec

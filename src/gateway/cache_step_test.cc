#include "gateway/cache_step.h"

#include <gtest/gtest.h>

#include "core/clock.h"

namespace mec {
namespace {

BackendOptions StepBackend(std::string name, Tier t) {
  BackendOptions b;
  b.name = name;
  b.tier = t;
  b.url = "http://127.0.0.1:1/v1";
  b.models = {name + "-model"};
  return b;
}

ParsedRequest Parse(std::string body) {
  auto p = ParseRequest(Endpoint::kChatCompletions, body);
  EXPECT_TRUE(std::holds_alternative<ParsedRequest>(p));
  return std::get<ParsedRequest>(std::move(p));
}

CachedAnswer Answer(int backend, std::string body) {
  CachedAnswer a;
  a.backend = backend;
  a.model = "m";
  a.content_type = "application/json";
  a.body = std::move(body);
  return a;
}

// device (quality 0.5), edge (0.8), cloud (1.0) on a manual clock.
struct CacheStepTest : ::testing::Test {
  CacheStepTest()
      : pool(std::vector<BackendOptions>{StepBackend("device", Tier::kDevice), StepBackend("edge", Tier::kEdge), StepBackend("cloud", Tier::kCloud)}),
        cache(1 << 20, std::chrono::seconds(60), clock) {
    ctx.model = "auto";
    ctx.tier_quality = {0.5, 0.8, 1.0};
    ctx.min_quality = 0.7;
  }
  ManualClock clock;
  BackendPool pool;
  ResponseCache cache;
  RequestContext ctx;
  const std::string body = R"({"model":"auto","temperature":0,"messages":[{"role":"user","content":"hi"}]})";
};

TEST(CacheControlTest, ReadsNoCacheAndNoStore) {
  EXPECT_FALSE(ParseCacheControl("").no_cache);
  EXPECT_TRUE(ParseCacheControl("max-age=0, No-Cache").no_cache);
  EXPECT_FALSE(ParseCacheControl("no-cache").no_store);
  const CacheControl c = ParseCacheControl("no-store");
  EXPECT_TRUE(c.no_store);
  EXPECT_TRUE(c.no_cache);  // no-store implies skipping the lookup too
}

TEST_F(CacheStepTest, MissThenStoreThenHit) {
  ParsedRequest p = Parse(body);
  CacheStep first(&cache, p, ctx, pool, {});
  ASSERT_TRUE(first.cacheable());
  EXPECT_EQ(first.LookUpLocal(), nullptr);
  EXPECT_EQ(first.Conclude(nullptr), nullptr);
  EXPECT_STREQ(first.state(), "miss");
  ASSERT_TRUE(first.stores());
  first.Store(Answer(2, "{}"), nullptr);

  CacheStep second(&cache, p, ctx, pool, {});
  auto hit = second.LookUpLocal();
  ASSERT_NE(hit, nullptr);
  EXPECT_EQ(hit->backend, 2);
  EXPECT_EQ(second.Conclude(nullptr), hit);
  EXPECT_STREQ(second.state(), "hit");
}

TEST_F(CacheStepTest, NotRepeatableIsNotCacheable) {
  ParsedRequest p = Parse(R"({"model":"auto","temperature":0.7,"messages":[{"role":"user","content":"hi"}]})");
  CacheStep step(&cache, p, ctx, pool, {});
  EXPECT_FALSE(step.cacheable());
  EXPECT_FALSE(step.stores());
  EXPECT_EQ(step.state(), nullptr);
  CacheStep off(nullptr, Parse(body), ctx, pool, {});
  EXPECT_FALSE(off.cacheable());
}

TEST_F(CacheStepTest, AnAnswerFromATooWeakTierIsNotReused) {
  ParsedRequest p = Parse(body);
  CacheStep(&cache, p, ctx, pool, {}).Store(Answer(0, "{}"), nullptr);  // the device: 0.5 < 0.7
  CacheStep step(&cache, p, ctx, pool, {});
  EXPECT_EQ(step.LookUpLocal(), nullptr);
  EXPECT_EQ(step.Conclude(nullptr), nullptr);
  EXPECT_STREQ(step.state(), "miss");
  ctx.model = "device";  // a pin is the client's choice: no quality gate
  CacheStep pinned(&cache, p, ctx, pool, {});
  EXPECT_NE(pinned.LookUpLocal(), nullptr);
}

TEST_F(CacheStepTest, NoCacheBypassesAndNoStoreKeepsNothing) {
  ParsedRequest p = Parse(body);
  CacheStep(&cache, p, ctx, pool, {}).Store(Answer(2, "{}"), nullptr);
  CacheStep bypass(&cache, p, ctx, pool, ParseCacheControl("no-cache"));
  EXPECT_EQ(bypass.LookUpLocal(), nullptr);
  EXPECT_FALSE(bypass.WantsShared(true));
  EXPECT_EQ(bypass.Conclude(nullptr), nullptr);
  EXPECT_STREQ(bypass.state(), "bypass");
  EXPECT_TRUE(bypass.stores());  // no-cache still refreshes the entry

  ParsedRequest other = Parse(R"({"model":"auto","seed":7,"messages":[{"role":"user","content":"other"}]})");
  CacheStep no_store(&cache, other, ctx, pool, ParseCacheControl("no-store"));
  EXPECT_FALSE(no_store.stores());
  no_store.Store(Answer(2, "{}"), nullptr);
  EXPECT_EQ(CacheStep(&cache, other, ctx, pool, {}).LookUpLocal(), nullptr);
}

TEST_F(CacheStepTest, SharedLevelOnlyForDataAllowedAnywhereAndKeptLocally) {
  ParsedRequest p = Parse(body);
  CacheStep step(&cache, p, ctx, pool, {});
  EXPECT_EQ(step.LookUpLocal(), nullptr);
  EXPECT_FALSE(step.WantsShared(false));
  ASSERT_TRUE(step.WantsShared(true));
  step.OfferShared(std::make_shared<const CachedAnswer>(Answer(1, "{\"shared\":1}")));
  auto hit = step.Conclude(nullptr);
  ASSERT_NE(hit, nullptr);
  EXPECT_EQ(hit->body, "{\"shared\":1}");
  EXPECT_NE(CacheStep(&cache, p, ctx, pool, {}).LookUpLocal(), nullptr);  // now in this process's level

  ctx.privacy = Privacy::kEdge;
  ParsedRequest q = Parse(R"({"model":"auto","seed":1,"messages":[{"role":"user","content":"private"}]})");
  CacheStep priv(&cache, q, ctx, pool, {});
  EXPECT_EQ(priv.LookUpLocal(), nullptr);
  EXPECT_FALSE(priv.WantsShared(true));
}

TEST_F(CacheStepTest, TheOtherDeliveryIsConverted) {
  ParsedRequest whole = Parse(body);
  CacheStep(&cache, whole, ctx, pool, {}).Store(
      Answer(2, R"({"id":"c1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"hello"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}})"),
      nullptr);
  ParsedRequest stream = Parse(R"({"model":"auto","temperature":0,"stream":true,"messages":[{"role":"user","content":"hi"}]})");
  CacheStep step(&cache, stream, ctx, pool, {});
  EXPECT_EQ(step.LookUpLocal(), nullptr);
  auto hit = step.Conclude(nullptr);
  ASSERT_NE(hit, nullptr);
  EXPECT_TRUE(hit->stream);
  EXPECT_FALSE(hit->events.empty());
  EXPECT_STREQ(step.state(), "hit");
}

}  // namespace
}  // namespace mec

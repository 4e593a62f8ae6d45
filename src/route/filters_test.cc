// The filter plugins on their own: the hard filter chain's names, order and reasons, and the
// profile filters (tier, auto-order).

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "route/filters.h"
#include "route/plugin_test_util.h"

namespace mec {
namespace {

TEST(HardFilterChain, NamesAndOrderMatchTheConfigList) {
  auto chain = HardFilterChain();
  ASSERT_EQ(chain.size(), std::size(kRoutingHardFilterNames));
  for (size_t i = 0; i < chain.size(); ++i) EXPECT_EQ(chain[i]->name(), kRoutingHardFilterNames[i]);
}

TEST(HardFilterChain, KeepAgreesWithTheReasonAndTheFirstReasonWins) {
  BackendPool pool({test::TierBackend("dev", Tier::kDevice), test::TierBackend("cloud", Tier::kCloud)});
  RequestContext ctx;
  ctx.model = "auto";
  ctx.privacy = Privacy::kDevice;
  ctx.network.link = LinkType::kOffline;
  BackendView v;
  v.routable = false;
  v.health = HealthState::kEjected;
  for (const Filter* f : HardFilterChain()) {
    for (size_t i = 0; i < pool.size(); ++i) {
      if (f->Keep(ctx, pool.at(i), v)) continue;
      EXPECT_FALSE(f->Why(ctx, pool.at(i), v).empty()) << f->name();
    }
  }
  bool serves = false;
  // The cloud fails privacy, reachability and health: privacy comes first.
  EXPECT_EQ(HardFilters(ctx, pool.at(1), v, &serves), "privacy=device");
  EXPECT_TRUE(serves);
  EXPECT_EQ(HardFilters(ctx, pool.at(0), v, &serves), "ejected");
  ctx.model = "m-cloud";
  ctx.privacy = Privacy::kAny;
  ctx.network.link = LinkType::kUnknown;
  v.routable = true;
  EXPECT_EQ(HardFilters(ctx, pool.at(0), v, &serves), "does not serve m-cloud");
  EXPECT_FALSE(serves);
  EXPECT_EQ(HardFilters(ctx, pool.at(1), v, &serves), "");
  EXPECT_TRUE(serves);
}

// The decision's fast path (the request's part computed once) names the same first filter as
// walking the chain, and the same model verdict, over every combination of the request's and the
// backend's inputs the filters read.
TEST(HardFilterChain, FirstHardFilterWithTheRequestTermsAgreesWithTheChain) {
  std::vector<BackendOptions> options;
  for (int t = 0; t < 3; ++t) {
    for (int variant = 0; variant < 3; ++variant) {
      BackendOptions o = test::TierBackend(variant == 0 ? "a" : variant == 1 ? "b" : "c", static_cast<Tier>(t));
      o.name += std::to_string(t);
      o.context_window = variant == 1 ? 500 : 32768;
      o.tools = variant != 2;
      if (variant == 2) o.models.clear();  // embeddings only
      if (variant == 2) o.embedding_models = {"emb"};
      options.push_back(o);
    }
  }
  BackendPool pool(options);
  const char* models[] = {"auto", "edge", "device", "m-a1", "nobody"};
  int checked = 0, removed = 0;
  for (const char* model : models)
    for (int privacy = 0; privacy < 3; ++privacy)
      for (uint8_t key_tiers : {uint8_t{0x7}, uint8_t{0x3}, uint8_t{0x4}})
        for (int situation = 0; situation < 4; ++situation)
          for (bool tools : {false, true})
            for (bool routable : {true, false}) {
              RequestContext ctx;
              ctx.model = model;
              ctx.privacy = privacy == 0 ? Privacy::kAny : privacy == 1 ? Privacy::kEdge : Privacy::kDevice;
              ctx.key_tiers = key_tiers;
              ctx.input_tokens = situation == 3 ? 400 : 100;
              ctx.output_tokens = 200;
              ctx.output_capped = situation == 3;  // 600 > a 500-token window
              if (situation == 1) ctx.network.link = LinkType::kOffline;
              if (situation == 2) {
                DeviceState hot;
                hot.thermal = Thermal::kCritical;
                ctx.device = hot;
              }
              ctx.needs_tools = tools;
              BackendView v;
              v.routable = routable;
              v.health = routable ? HealthState::kHealthy : HealthState::kUnhealthy;
              const HardFilterTerms terms = HardFilterTermsOf(ctx);
              for (size_t i = 0; i < pool.size(); ++i) {
                const Filter* want = nullptr;
                bool want_serves = false;
                for (const Filter* f : HardFilterChain()) {
                  const bool keep = f->Keep(ctx, pool.at(i), v);
                  if (f->name() == "model") want_serves = keep;
                  if (!keep && !want) want = f;
                }
                bool serves = !want_serves;
                const Filter* got = FirstHardFilter(terms, ctx, pool.at(i), v, &serves);
                ASSERT_EQ(got, want) << model << " privacy " << privacy << " situation " << situation << " backend " << i;
                ASSERT_EQ(serves, want_serves) << model << " backend " << i;
                bool serves_too = false;
                EXPECT_EQ(HardFilters(ctx, pool.at(i), v, &serves_too), want ? want->Why(ctx, pool.at(i), v) : "");
                ++checked;
                removed += want != nullptr;
              }
            }
  EXPECT_GT(removed, 0);
  EXPECT_LT(removed, checked);  // both outcomes were exercised
}

TEST(ProfileFilters, TierFiltersKeepTheirTierOnly) {
  BackendPool pool({test::TierBackend("dev", Tier::kDevice), test::TierBackend("edge", Tier::kEdge),
                    test::TierBackend("cloud", Tier::kCloud)});
  RequestContext ctx;
  BackendView v;
  const char* names[] = {"device-tier", "edge-tier", "cloud-tier"};
  for (int t = 0; t < 3; ++t) {
    auto f = MakeFilter(names[t], PolicyOptions{});
    ASSERT_TRUE(f) << names[t];
    EXPECT_EQ(f->name(), names[t]);
    for (int i = 0; i < 3; ++i) EXPECT_EQ(f->Keep(ctx, pool.at(i), v), i == t) << names[t] << " " << i;
  }
}

TEST(ProfileFilters, AutoOrderNarrowsAutoRequestsOnly) {
  BackendPool pool({test::TierBackend("dev", Tier::kDevice), test::TierBackend("cloud", Tier::kCloud)});
  PolicyOptions o;
  o.auto_order = {Tier::kCloud, Tier::kEdge};
  auto f = MakeFilter("auto-order", o);
  ASSERT_TRUE(f);
  RequestContext ctx;
  BackendView v;
  ctx.model = "auto";
  EXPECT_FALSE(f->Keep(ctx, pool.at(0), v));
  EXPECT_TRUE(f->Keep(ctx, pool.at(1), v));
  ctx.model = "m-dev";  // a pinned model is the client's choice
  EXPECT_TRUE(f->Keep(ctx, pool.at(0), v));
}

TEST(ProfileFilters, EveryConfigNameIsBuiltAndNoOther) {
  for (const char* name : kRoutingFilterNames) EXPECT_TRUE(MakeFilter(name, PolicyOptions{})) << name;
  EXPECT_FALSE(MakeFilter("privacy", PolicyOptions{}));  // hard filters run for every profile
  EXPECT_FALSE(MakeFilter("nope", PolicyOptions{}));
}

}  // namespace
}  // namespace mec

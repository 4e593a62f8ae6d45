// The filter plugins on their own: the hard filter chain's names, order and reasons, and the
// profile filters (tier, auto-order).

#include <gtest/gtest.h>

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

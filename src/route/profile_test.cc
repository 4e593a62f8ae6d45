// Profiles: plugins combined by name and weight, the shared steps, and the built-in policies as
// profiles (their behaviour is route_test.cc's and the golden simulation's).

#include <gtest/gtest.h>

#include <cmath>

#include "route/plugin_test_util.h"
#include "route/policies.h"
#include "route/profile.h"

namespace mec {
namespace {

struct Pool3 {
  Pool3() {
    snap.backends.resize(3);
    Set(0, 0.30, 0.020, 0);   // device: slow, cheapest (energy)
    Set(1, 0.15, 0.014, 2);   // edge: fast, busy
    Set(2, 0.60, 0.010, 0);   // cloud: slow start
  }
  void Set(int i, double ttft, double tpot, int in_flight) {
    auto& v = snap.backends[i];
    v.index = i;
    v.capacity = 4;
    v.in_flight = in_flight;
    v.ttft = {std::log(ttft), 0.2, 100};
    v.tpot = {std::log(tpot), 0.1, 100};
    v.rtt = {std::log(0.01), 0.2, 100};
  }
  Result<Decision> Decide(const Router& r) {
    RouteEnv env{pool, snap, rng};
    return r.Decide(ctx, env);
  }
  BackendPool pool{[] {
    auto d = test::TierBackend("dev", Tier::kDevice);
    d.price.watts = 5, d.price.usd_per_kwh = 0.15;
    auto e = test::TierBackend("edge", Tier::kEdge);
    e.price.gpu_per_hour = 1.0, e.price.gpu_tokens_per_second = 500;
    auto c = test::TierBackend("cloud", Tier::kCloud);
    c.price.input_per_1m = 2.5, c.price.output_per_1m = 10;
    return std::vector<BackendOptions>{d, e, c};
  }()};
  PoolSnapshot snap;
  Rng rng{3};
  RequestContext ctx = [] {
    RequestContext c;
    c.model = "auto";
    c.input_tokens = 100;
    c.output_tokens = 50;
    c.tier_quality = {0.6, 0.8, 1.0};
    return c;
  }();
};

ProfileOptions Spec(const char* name, std::vector<ScorerWeight> scorers, std::vector<std::string> filters = {},
                    const char* picker = "max-score") {
  ProfileOptions p;
  p.name = name;
  p.scorers = std::move(scorers);
  p.filters = std::move(filters);
  p.picker = picker;
  return p;
}

TEST(Profile, BuiltinsAreTheConfigListInOrder) {
  const auto& names = PolicyNames();
  ASSERT_EQ(names.size(), std::size(kBuiltinPolicyNames));
  for (size_t i = 0; i < names.size(); ++i) EXPECT_EQ(names[i], kBuiltinPolicyNames[i]);
  for (const auto& p : BuiltinProfileOptions()) EXPECT_TRUE(MakeProfile(p, PolicyOptions{}).ok()) << p.name;
}

TEST(Profile, UnknownPluginsAndBadWeightsAreErrors) {
  EXPECT_NE(MakeProfile(Spec("p", {{"speed", 1}}), {}).status().message().find("unknown scorer 'speed'"), std::string::npos);
  EXPECT_NE(MakeProfile(Spec("p", {{"cost", 0}}), {}).status().message().find("needs a weight > 0"), std::string::npos);
  EXPECT_NE(MakeProfile(Spec("p", {{"cost", NAN}}), {}).status().message().find("needs a weight > 0"), std::string::npos);
  EXPECT_NE(MakeProfile(Spec("p", {}, {"moon-tier"}), {}).status().message().find("unknown filter 'moon-tier'"), std::string::npos);
  EXPECT_NE(MakeProfile(Spec("p", {}, {}, "best"), {}).status().message().find("unknown picker 'best'"), std::string::npos);
}

TEST(Profile, WeightsDecideAndTheReasonSaysEachScorersDetail) {
  Pool3 w;
  // Latency alone: the edge (fastest). Weighted towards cost: the device (cheapest).
  auto fast = MakeProfile(Spec("fast", {{"latency", 1}}), {});
  ASSERT_TRUE(fast.ok());
  auto d = w.Decide(**fast);
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_EQ(d->chain.front(), 1);
  EXPECT_EQ(d->policy, "fast");
  EXPECT_EQ(d->reason.rfind("fast: ", 0), 0u) << d->reason;
  EXPECT_NE(d->reason.find("ms expected"), std::string::npos) << d->reason;
  auto mix = MakeProfile(Spec("mix", {{"latency", 0.1}, {"cost", 1}, {"load", 0.1}}), {});
  ASSERT_TRUE(mix.ok());
  d = w.Decide(**mix);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->chain.front(), 0) << d->reason;
  EXPECT_EQ(d->chain.size(), 3u);
  EXPECT_NE(d->reason.find("ms expected, $"), std::string::npos) << d->reason;  // load has no detail
  // A filter narrows the chain without marking the others as filtered.
  auto edge = MakeProfile(Spec("edge-ish", {{"load", 1}}, {"edge-tier"}), {});
  d = w.Decide(**edge);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->chain, std::vector<int>{1});
  EXPECT_EQ(d->reason, "edge-ish");
  EXPECT_EQ(d->candidates[0].filtered_by, "");
  // Nothing left: the shared error says the profile allows none.
  w.ctx.privacy = Privacy::kDevice;
  d = w.Decide(**edge);
  EXPECT_EQ(d.status().code(), StatusCode::kUnavailable);
  w.ctx.privacy = Privacy::kAny;
  w.snap.backends[1].routable = false;
  w.snap.backends[1].health = HealthState::kUnhealthy;
  d = w.Decide(**edge);
  EXPECT_NE(d.status().message().find("edge: unhealthy"), std::string::npos) << d.status().message();
}

TEST(Profile, ConfiguredProfilesArePolicies) {
  PolicyOptions o;
  ProfileOptions p = Spec("cheap-then-fast", {{"cost", 1}, {"latency", 0.5}});
  p.reason = "cheap, then fast";
  o.profiles.push_back(p);
  auto names = PolicyNames(o);
  EXPECT_EQ(names.back(), "cheap-then-fast");
  EXPECT_EQ(names.size(), PolicyNames().size() + 1);
  auto r = MakePolicy("cheap-then-fast", o);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->name(), "cheap-then-fast");
  Pool3 w;
  auto d = w.Decide(*r);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->reason.rfind("cheap, then fast: $", 0), 0u) << d->reason;
  EXPECT_EQ(MakePolicy("cheap-then-fast", PolicyOptions{}), nullptr);
  EXPECT_TRUE(MakePolicy("round-robin", o));
}

TEST(Profile, SharedStepsShedAndHedgeForAnyProfile) {
  Pool3 w;
  PolicyOptions o;
  o.hedge = true;
  auto r = MakeProfile(Spec("fast", {{"latency", 1}}), o);
  w.ctx.deadline_ms = 100;  // nobody makes it
  auto d = w.Decide(**r);
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->hedge);
  EXPECT_GT(d->hedge_delay_s, 0);
  for (auto& v : w.snap.backends) v.in_flight = 40;
  d = w.Decide(**r);
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->shed);
  EXPECT_EQ(d->reason.rfind("shed: every candidate is at capacity", 0), 0u) << d->reason;
}

}  // namespace
}  // namespace mec

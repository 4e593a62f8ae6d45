// The scorer plugins on their own: scores in [0, 1], best 1, the order of their keys.

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "route/plugin_test_util.h"
#include "route/scorers.h"

namespace mec {
namespace {

std::vector<double> ScoreWith(const char* name, const CandidateSet& cs, const RequestContext& ctx = {}, PolicyOptions o = {}) {
  auto s = MakeScorer(name, o);
  EXPECT_TRUE(s) << name;
  EXPECT_EQ(s->name(), name);
  std::vector<double> out(cs.passing.size(), -1);
  s->Score(ctx, cs, cs.passing, out);
  for (double x : out) {
    EXPECT_GE(x, 0.0) << name;
    EXPECT_LE(x, 1.0) << name;
  }
  return out;
}

TEST(Scorers, EveryConfigNameIsBuilt) {
  for (const char* name : kRoutingScorerNames) EXPECT_TRUE(MakeScorer(name, PolicyOptions{})) << name;
  EXPECT_FALSE(MakeScorer("speed", PolicyOptions{}));
}

TEST(Scorers, LatencyCostAndLoadAreNormalizedLowerIsBetter) {
  auto cs = test::Candidates({Tier::kDevice, Tier::kEdge, Tier::kCloud});
  cs.all[0].latency_s = 2, cs.all[1].latency_s = 1, cs.all[2].latency_s = 5;
  EXPECT_EQ(ScoreWith("latency", cs), (std::vector<double>{0.75, 1.0, 0.0}));
  cs.all[0].cost_usd = 0, cs.all[1].cost_usd = 0.25, cs.all[2].cost_usd = 1;
  EXPECT_EQ(ScoreWith("cost", cs), (std::vector<double>{1.0, 0.75, 0.0}));
  cs.all[0].load = 0.5, cs.all[1].load = 0.5, cs.all[2].load = 0.5;  // all equal: all best
  EXPECT_EQ(ScoreWith("load", cs), (std::vector<double>{1.0, 1.0, 1.0}));
  cs.all[2].latency_s = std::numeric_limits<double>::infinity();  // not finite: 0, the rest as before
  EXPECT_EQ(ScoreWith("latency", cs), (std::vector<double>{0.0, 1.0, 0.0}));
  // Only the survivors count.
  cs.passing = {0, 1};
  EXPECT_EQ(ScoreWith("latency", cs), (std::vector<double>{0.0, 1.0}));
}

TEST(Scorers, QueueAndKvCacheReadTheEngines) {
  auto cs = test::Candidates({Tier::kEdge, Tier::kEdge, Tier::kCloud});
  cs.all[0].queue = 4, cs.all[1].queue = 0, cs.all[2].queue = 2;
  EXPECT_EQ(ScoreWith("queue", cs), (std::vector<double>{0.0, 1.0, 0.5}));
  // KV: the cloud reports none and scores the mean of the others' scores.
  cs.all[0].kv_usage = 0.9, cs.all[1].kv_usage = 0.3;
  EXPECT_EQ(ScoreWith("kv-cache", cs), (std::vector<double>{0.0, 1.0, 0.5}));
  // Nobody reports: all alike.
  cs.all[0].kv_usage = cs.all[1].kv_usage = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(ScoreWith("kv-cache", cs), (std::vector<double>{1.0, 1.0, 1.0}));
  auto s = MakeScorer("queue", PolicyOptions{});
  std::string reason;
  s->Detail({}, cs.all[0], reason);
  EXPECT_EQ(reason, "4 waiting");
}

TEST(Scorers, QualityAndPMeetAreTheirValues) {
  auto cs = test::Candidates({Tier::kDevice, Tier::kCloud});
  cs.all[0].quality = 0.6, cs.all[1].quality = 1.2;  // clamped
  cs.all[0].p_meet = 0.3, cs.all[1].p_meet = 0.9;
  EXPECT_EQ(ScoreWith("quality", cs), (std::vector<double>{0.6, 1.0}));
  EXPECT_EQ(ScoreWith("p-meet", cs), (std::vector<double>{0.3, 0.9}));
}

TEST(Scorers, TierDistanceFromTheUseCaseTier) {
  auto cs = test::Candidates({Tier::kDevice, Tier::kEdge, Tier::kCloud});
  RequestContext ctx;
  EXPECT_EQ(ScoreWith("tier-distance", cs, ctx), (std::vector<double>{0.0, 0.5, 1.0}));  // no use case: cloud
  ctx.static_tier = "edge";
  ctx.use_case = "vehicle.traffic";
  EXPECT_EQ(ScoreWith("tier-distance", cs, ctx), (std::vector<double>{0.5, 1.0, 0.5}));
  std::string detail;
  MakeScorer("tier-distance", {})->Detail(ctx, cs.all[1], detail);
  EXPECT_EQ(detail, "vehicle.traffic -> edge");
}

TEST(Scorers, TierOrderFollowsAutoOrder) {
  auto cs = test::Candidates({Tier::kDevice, Tier::kEdge, Tier::kCloud});
  PolicyOptions o;
  o.auto_order = {Tier::kCloud, Tier::kEdge};
  auto s = ScoreWith("tier-order", cs, {}, o);
  EXPECT_EQ(s, (std::vector<double>{0.0, 0.5, 1.0}));
}

TEST(Scorers, DetailsAndKeys) {
  auto cs = test::Candidates({Tier::kEdge});
  auto& c = cs.all[0];
  c.latency_s = 0.1234, c.cost_usd = 1.5e-5, c.quality = 0.842, c.p_meet = 0.971, c.load = 0.25;
  auto detail = [&](const char* name) {
    std::string out;
    MakeScorer(name, {})->Detail({}, c, out);
    return out;
  };
  EXPECT_EQ(detail("latency"), "123ms expected");
  EXPECT_EQ(detail("cost"), "$0.000015");
  EXPECT_EQ(detail("quality"), "quality 0.84");
  EXPECT_EQ(detail("p-meet"), "p(meet)=0.97");
  EXPECT_EQ(detail("load"), "");
  // Keys are lower-is-better versions of what the scores rank.
  EXPECT_EQ(MakeScorer("latency", {})->Key({}, c), 0.1234);
  EXPECT_EQ(MakeScorer("quality", {})->Key({}, c), -0.842);
  EXPECT_EQ(MakeScorer("load", {})->Key({}, c), 0.25);
}

}  // namespace
}  // namespace mec

// The picker plugins on their own.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "route/pickers.h"
#include "route/plugin_test_util.h"
#include "route/scorers.h"

namespace mec {
namespace {

std::vector<int> PickWith(const char* name, test::PickerBench& b, CandidateSet& cs, const std::vector<double>& scores = {},
                          std::span<const Scorer* const> scorers = {}, std::string* reason = nullptr,
                          const PolicyOptions& options = PolicyOptions{}) {
  auto p = MakePicker(name, options);
  EXPECT_TRUE(p) << name;
  std::vector<int> ids = cs.passing;
  Cycle cycle{b.ctx, b.env, cs, ids, scores, scorers, b.decision};
  std::string r;
  p->Pick(cycle, r);
  if (reason) *reason = r;
  return ids;
}

TEST(Pickers, EveryConfigNameIsBuilt) {
  for (const char* name : kRoutingPickerNames) EXPECT_TRUE(MakePicker(name, PolicyOptions{})) << name;
  EXPECT_FALSE(MakePicker("best", PolicyOptions{}));
}

TEST(MaxScorePicker, HighestFirstTiesByKeyThenPoolOrder) {
  test::PickerBench b;
  auto cs = test::Candidates({Tier::kDevice, Tier::kEdge, Tier::kCloud, Tier::kEdge});
  EXPECT_EQ(PickWith("max-score", b, cs, {0.2, 0.9, 0.5, 0.9}), (std::vector<int>{1, 3, 2, 0}));
  // Equal scores (normalization may round two close values to one) fall back on the scorer's key.
  auto latency = MakeScorer("latency", {});
  const Scorer* scorers[] = {latency.get()};
  cs.all[1].latency_s = 0.3000000000000001;
  cs.all[3].latency_s = 0.3;
  EXPECT_EQ(PickWith("max-score", b, cs, {0.2, 0.9, 0.5, 0.9}, scorers), (std::vector<int>{3, 1, 2, 0}));
  // No scorers: pool order.
  EXPECT_EQ(PickWith("max-score", b, cs), (std::vector<int>{0, 1, 2, 3}));
}

TEST(RoundRobinPicker, RotatesOnePlacePerDecision) {
  test::PickerBench b;
  auto cs = test::Candidates({Tier::kDevice, Tier::kEdge, Tier::kCloud});
  auto p = MakePicker("round-robin", PolicyOptions{});
  std::vector<int> firsts;
  for (int k = 0; k < 4; ++k) {
    std::vector<int> ids = cs.passing;
    std::vector<double> none;
    Cycle cycle{b.ctx, b.env, cs, ids, none, {}, b.decision};
    std::string r;
    p->Pick(cycle, r);
    EXPECT_TRUE(r.empty());
    firsts.push_back(ids.front());
  }
  EXPECT_EQ(firsts, (std::vector<int>{0, 1, 2, 0}));
}

TEST(RandomPicker, FisherYatesFromTheBackOnTheEnvRng) {
  test::PickerBench b;
  auto cs = test::Candidates({Tier::kDevice, Tier::kEdge, Tier::kCloud, Tier::kCloud});
  Rng same{11};  // the bench's seed: the picker must draw Below(4), Below(3), Below(2) in turn
  std::vector<int> expect = {0, 1, 2, 3};
  for (size_t i = expect.size(); i > 1; --i) std::swap(expect[i - 1], expect[same.Below(i)]);
  EXPECT_EQ(PickWith("random", b, cs), expect);
  EXPECT_EQ(b.rng.Next(), same.Next());  // no other draw
}

TEST(AdaptivePicker, CheapestFeasibleThenTheRestByPMeetTimesQuality) {
  test::PickerBench b;
  b.ctx.model = "auto";
  b.ctx.min_quality = 0.7;
  b.ctx.deadline_ms = 1000;
  auto cs = test::Candidates({Tier::kDevice, Tier::kEdge, Tier::kCloud});
  cs.all[0].quality = 0.5, cs.all[0].p_meet = 0.99, cs.all[0].cost_usd = 1e-7;   // too weak
  cs.all[1].quality = 0.8, cs.all[1].p_meet = 0.95, cs.all[1].cost_usd = 2e-6;   // feasible, cheaper
  cs.all[2].quality = 1.0, cs.all[2].p_meet = 0.97, cs.all[2].cost_usd = 2e-5;   // feasible
  std::string reason;
  EXPECT_EQ(PickWith("adaptive", b, cs, {}, {}, &reason), (std::vector<int>{1, 2, 0}));
  EXPECT_EQ(reason, "device quality 0.50<0.70; edge meets quality 0.80>=0.70 and p(meet)=0.95 at $0.000002");
  EXPECT_EQ(cs.all[1].score, -2e-6);  // the feasible candidates' score is minus their cost
  EXPECT_EQ(cs.all[0].score, 0);
  EXPECT_EQ(b.decision.quality_gate.slot, -1);
}

TEST(AdaptivePicker, DegradesKeepingTheDeadline) {
  test::PickerBench b;
  b.ctx.model = "auto";
  b.ctx.min_quality = 0.9;
  b.ctx.deadline_ms = 200;
  auto cs = test::Candidates({Tier::kDevice, Tier::kEdge, Tier::kCloud});
  cs.all[0].quality = 0.5, cs.all[0].p_meet = 0.99;
  cs.all[1].quality = 0.8, cs.all[1].p_meet = 0.95;
  cs.all[2].quality = 1.0, cs.all[2].p_meet = 0.1;
  std::string reason;
  EXPECT_EQ(PickWith("adaptive", b, cs, {}, {}, &reason), (std::vector<int>{1, 0, 2}));
  EXPECT_EQ(reason,
            "device quality 0.50<0.90; edge quality 0.80<0.90; degraded: no tier meets quality 0.90 in time; best quality "
            "within the deadline: edge (quality 0.80, p(meet)=0.95, $0.000000)");
}

// Two alike edge replicas and a third twice as slow, all feasible at one price, the cloud dearer:
// with spread the alike two lead in turn (the draws come from RouteEnv::rng), the slow one and
// the cloud never; without it the faster one always leads.
TEST(AdaptivePicker, SpreadsOverNearEqualReplicasOfTheLeadersTier) {
  auto count_leaders = [](double spread, double second_latency) {
    test::PickerBench b;
    b.ctx.model = "auto";
    b.ctx.min_quality = 0.7;
    b.ctx.deadline_ms = 2000;
    PolicyOptions o;
    o.spread = spread;
    std::vector<int> led(5, 0);
    for (int k = 0; k < 400; ++k) {
      auto cs = test::Candidates({Tier::kDevice, Tier::kEdge, Tier::kEdge, Tier::kEdge, Tier::kCloud});
      cs.all[0].quality = 0.5;  // too weak
      for (int e : {1, 2, 3}) cs.all[e].quality = 0.8, cs.all[e].p_meet = 0.99, cs.all[e].cost_usd = 2e-6;
      cs.all[1].latency_s = 1.0, cs.all[2].latency_s = second_latency, cs.all[3].latency_s = 2.0;
      cs.all[4].quality = 1.0, cs.all[4].p_meet = 0.99, cs.all[4].cost_usd = 2.1e-6, cs.all[4].latency_s = 0.9;  // within the cost tie
      cs.all[4].tier = Tier::kCloud;
      const auto ids = PickWith("adaptive", b, cs, {}, {}, nullptr, o);
      EXPECT_EQ(ids.size(), 5u);
      ++led[static_cast<size_t>(ids.front())];
    }
    return led;
  };
  // The cloud is the fastest of the tie, so it leads and the edge replicas are not spread over.
  auto led = count_leaders(0.1, 1.05);
  EXPECT_EQ(led[4], 400);
  // Without the cloud in the tie (dearer than cost_tie), the two alike edges share the lead.
  auto count_edges = [](double spread, double second_latency) {
    test::PickerBench b;
    b.ctx.model = "auto";
    b.ctx.min_quality = 0.7;
    PolicyOptions o;
    o.spread = spread;
    std::vector<int> led(4, 0);
    for (int k = 0; k < 400; ++k) {
      auto cs = test::Candidates({Tier::kEdge, Tier::kEdge, Tier::kEdge, Tier::kCloud});
      for (int e : {0, 1, 2}) cs.all[e].quality = 0.8, cs.all[e].cost_usd = 2e-6;
      cs.all[0].latency_s = 1.0, cs.all[1].latency_s = second_latency, cs.all[2].latency_s = 2.0;
      cs.all[3].quality = 1.0, cs.all[3].cost_usd = 2e-5, cs.all[3].latency_s = 0.5;
      const auto ids = PickWith("adaptive", b, cs, {}, {}, nullptr, o);
      EXPECT_EQ(ids.back(), 3);  // the dearer cloud stays last
      ++led[static_cast<size_t>(ids.front())];
    }
    return led;
  };
  led = count_edges(0.1, 1.05);
  EXPECT_GT(led[0], 150);
  EXPECT_GT(led[1], 150);
  EXPECT_EQ(led[2], 0);  // twice as slow: outside the spread
  led = count_edges(0.1, 1.2);  // 20% slower: outside a 10% spread
  EXPECT_EQ(led[0], 400);
  led = count_edges(0, 1.05);  // spread off: the faster, always
  EXPECT_EQ(led[0], 400);
  led = count_edges(1.0, 1.05);  // a spread of 100% takes the slow one in too
  EXPECT_GT(led[2], 80);
}

}  // namespace
}  // namespace mec

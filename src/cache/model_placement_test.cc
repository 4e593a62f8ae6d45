#include "cache/model_placement.h"

#include <gtest/gtest.h>

namespace mec {
namespace {

const TimePoint t0{};
TimePoint At(double s) { return t0 + FromSeconds(s); }
int Idle(int) { return 0; }

TEST(ModelPlacement, TargetGivesEveryModelWithDemandASlotThenFollowsDemand) {
  ModelPlacement p(3, {0, 0, 0, 0}, {}, t0);
  EXPECT_EQ(p.Target(t0), (std::vector<int>{0, 0, 0}));  // no demand, no opinion
  p.OnDemand(0, 700, t0);
  p.OnDemand(1, 200, t0);
  p.OnDemand(2, 100, t0);
  // One each, the fourth to the model with the most demand per slot (700/2 > 200/2).
  EXPECT_EQ(p.Target(t0), (std::vector<int>{2, 1, 1}));
  // A model below min_share (2%) reserves nothing.
  ModelPlacement q(3, {0, 0, 0, 0}, {}, t0);
  q.OnDemand(0, 990, t0);
  q.OnDemand(1, 10, t0);
  EXPECT_EQ(q.Target(t0), (std::vector<int>{4, 0, 0}));
  // More models than slots: the ones with the most demand get them, whatever their index.
  ModelPlacement r(3, {0, 0}, {}, t0);
  r.OnDemand(0, 100, t0);
  r.OnDemand(1, 300, t0);
  r.OnDemand(2, 200, t0);
  EXPECT_EQ(r.Target(t0), (std::vector<int>{0, 1, 1}));
}

TEST(ModelPlacement, DemandDecaysWithItsHalfLife) {
  PlacementOptions o;
  o.half_life_s = 10;
  ModelPlacement p(2, {0}, o, t0);
  p.OnDemand(0, 100, t0);
  EXPECT_NEAR(p.Demand(0, At(10)), 50, 1e-9);
  p.OnDemand(0, 50, At(10));
  EXPECT_NEAR(p.Demand(0, At(20)), 50, 1e-9);
}

TEST(ModelPlacement, ReplanMovesOneSlotPerIntervalTowardDemand) {
  PlacementOptions o;
  o.interval_s = 30;
  ModelPlacement p(2, {0, 0, 0, 1}, o, t0);
  p.OnDemand(0, 100, t0);
  p.OnDemand(1, 900, t0);
  EXPECT_FALSE(p.Replan(At(10), Idle));  // before the first interval
  // Model 1 has 9x the demand on a quarter of the slots: the donor's least busy slot moves.
  auto busy = [](int s) { return s == 0 ? 5 : s == 1 ? 1 : 3; };
  auto m = p.Replan(At(30), busy);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->slot, 1);
  EXPECT_EQ(m->model, 1);
  p.Reserve(m->slot, m->model);
  EXPECT_TRUE(p.loading(1));
  EXPECT_EQ(p.SlotsOf(1), 2);
  EXPECT_FALSE(p.Replan(At(40), Idle));  // once per interval
  auto m2 = p.Replan(At(60), Idle);      // target {1, 3}: one more, never the slot being loaded
  ASSERT_TRUE(m2);
  EXPECT_NE(m2->slot, 1);
  EXPECT_EQ(m2->model, 1);
  p.Reserve(m2->slot, m2->model);
  p.Assign(1, 1);
  EXPECT_FALSE(p.loading(1));
  EXPECT_EQ(p.moves(), 2);
  EXPECT_FALSE(p.Replan(At(90), Idle));  // at target
}

TEST(ModelPlacement, HysteresisKeepsASlotWhenTheGainIsSmall) {
  PlacementOptions o;
  o.interval_s = 1;
  ModelPlacement p(2, {0, 0, 1}, o, t0);
  // One slot each, the third to model 1 (550/2 > 450/2): target {1, 2}.
  p.OnDemand(0, 450, t0);
  p.OnDemand(1, 550, t0);
  EXPECT_EQ(p.Target(t0), (std::vector<int>{1, 2}));
  // Moving would give model 1 275 per slot against model 0's 450: not worth a cold start.
  EXPECT_FALSE(p.Replan(At(1), Idle));
  o.hysteresis = 0.5;
  ModelPlacement eager(2, {0, 0, 1}, o, t0);
  eager.OnDemand(0, 450, t0);
  eager.OnDemand(1, 550, t0);
  EXPECT_TRUE(eager.Replan(At(1), Idle));
}

TEST(ModelPlacement, StaticPlacementNeverReplans) {
  PlacementOptions o;
  o.adaptive = false;
  ModelPlacement p(2, {0, 0}, o, t0);
  p.OnDemand(1, 1000, t0);
  EXPECT_FALSE(p.Replan(At(1000), Idle));
}

TEST(ModelPlacement, ColdSlotComesFromTheModelThatCanSpareItBest) {
  ModelPlacement p(3, {0, 0, 1, -1}, {}, t0);
  p.OnDemand(0, 100, t0);
  p.OnDemand(1, 10, t0);
  // An empty slot first.
  EXPECT_EQ(p.ColdSlot(2, t0, Idle), 3);
  p.Reserve(3, 2);
  // Then the model with the least demand per slot: model 0 has 50 per slot, model 1 has 10.
  EXPECT_EQ(p.ColdSlot(2, t0, Idle), 2);
  p.OnDemand(1, 1000, t0);
  auto busy = [](int s) { return s == 0 ? 4 : 1; };
  EXPECT_EQ(p.ColdSlot(2, t0, busy), 1);  // model 0 now: its less busy slot
  // Every slot loading: none.
  p.Reserve(0, 2);
  p.Reserve(1, 2);
  p.Reserve(2, 2);
  EXPECT_EQ(p.ColdSlot(1, t0, Idle), -1);
}

}  // namespace
}  // namespace mec

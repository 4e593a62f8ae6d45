#include "learn/routing_eval.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

namespace mec {
namespace {

// score, weak correct, strong correct. Worked by hand:
//   a 0.1 weak wrong, strong right  (gain +1, label 0)
//   b 0.2 both right                (gain  0, label 1)
//   c 0.3 weak wrong, strong right  (gain +1, label 0)
//   d 0.9 weak right, strong wrong  (gain -1, label 1)
// Weak 2/4, strong 3/4 correct. 95% target = 2.85 correct: routing a (k = 1) gives 3 -> saved 75%.
// Gap recovered (gap = 1 item) at k = 0..4: 0, 1, 1, 2, 1; trapezoids 0.5 + 1 + 1.5 + 1.5 = 4.5,
// over n = 4 -> APGR 1.125. AUC: positive-negative pairs ordered right: (b,a) (d,a) (d,c) -> 3/4.
std::vector<RoutedItem> Tiny() { return {{0.1, false, true}, {0.2, true, true}, {0.3, false, true}, {0.9, true, false}}; }

TEST(RoutingEval, HandComputedExample) {
  const RoutingMetrics m = EvaluateRouting(Tiny(), 0.95);
  EXPECT_EQ(m.n, 4u);
  EXPECT_DOUBLE_EQ(m.weak_accuracy, 0.5);
  EXPECT_DOUBLE_EQ(m.strong_accuracy, 0.75);
  EXPECT_DOUBLE_EQ(m.strong_fraction, 0.25);
  EXPECT_DOUBLE_EQ(m.calls_saved, 0.75);
  EXPECT_DOUBLE_EQ(m.apgr, 1.125);
  EXPECT_DOUBLE_EQ(m.auc, 0.75);
}

TEST(RoutingEval, OrderOfInputDoesNotMatter) {
  std::vector<RoutedItem> r = Tiny();
  std::swap(r[0], r[3]);
  std::swap(r[1], r[2]);
  const RoutingMetrics m = EvaluateRouting(r, 0.95);
  EXPECT_DOUBLE_EQ(m.calls_saved, 0.75);
  EXPECT_DOUBLE_EQ(m.apgr, 1.125);
  EXPECT_DOUBLE_EQ(m.auc, 0.75);
}

TEST(RoutingEval, ConstantScoreIsExpectedRandomRouting) {
  std::vector<RoutedItem> r = Tiny();
  for (auto& it : r) it.score = 0.5;
  const RoutingMetrics m = EvaluateRouting(r, 0.95);
  // Expected correct after routing k random items: 2 + k/4; 2.85 needs k = 4 (3.4 items rounded up).
  EXPECT_DOUBLE_EQ(m.strong_fraction, 1.0);
  EXPECT_DOUBLE_EQ(m.apgr, 0.5);
  EXPECT_DOUBLE_EQ(m.auc, 0.5);
  // A lower target: 2.5 correct needs k = 2.
  EXPECT_DOUBLE_EQ(EvaluateRouting(r, 2.5 / 3.0).strong_fraction, 0.5);
}

TEST(RoutingEval, WeakAlreadyGoodEnoughSavesEverything) {
  const std::vector<RoutedItem> r = {{0.5, true, true}, {0.1, true, false}};
  EXPECT_DOUBLE_EQ(EvaluateRouting(r).calls_saved, 1.0);
  EXPECT_TRUE(std::isnan(EvaluateRouting(r).auc));  // one class only
}

TEST(RoutingEval, CurveEndsAtStrongAccuracy) {
  const auto curve = RoutingCurve(Tiny());
  ASSERT_EQ(curve.size(), 5u);
  EXPECT_DOUBLE_EQ(curve.front().accuracy, 0.5);
  EXPECT_DOUBLE_EQ(curve.back().strong_fraction, 1.0);
  EXPECT_DOUBLE_EQ(curve.back().accuracy, 0.75);
  EXPECT_DOUBLE_EQ(curve[3].accuracy, 1.0);
}

TEST(RoutingEval, EmptyInput) {
  const RoutingMetrics m = EvaluateRouting({});
  EXPECT_EQ(m.n, 0u);
  EXPECT_TRUE(RoutingCurve({}).empty());
}

TEST(RoutingEval, WithinGroupAucIgnoresWhatSeparatesTheGroups) {
  // Group x is all hard (label 0) with low scores, group y all easy with high ones: the pooled AUC
  // is 1, but inside each group there is one class only, so nothing is known within groups.
  std::vector<RoutedItem> r = {{0.1, false, true}, {0.2, false, true}, {0.8, true, true}, {0.9, true, false}};
  const std::vector<std::string> g = {"x", "x", "y", "y"};
  EXPECT_DOUBLE_EQ(RoutingAuc(r), 1.0);
  EXPECT_TRUE(std::isnan(WithinGroupAuc(r, g)));
  // Add a group z (2 items) ranked backwards and a group w (4 items) ranked right: (0 * 2 + 1 * 4) / 6.
  r.push_back({0.6, true, true});
  r.push_back({0.7, false, true});
  r.push_back({0.3, false, true});
  r.push_back({0.4, true, true});
  r.push_back({0.35, false, true});
  r.push_back({0.45, true, false});
  const std::vector<std::string> g2 = {"x", "x", "y", "y", "z", "z", "w", "w", "w", "w"};
  EXPECT_DOUBLE_EQ(WithinGroupAuc({r.begin() + 4, r.end()}, {g2.begin() + 4, g2.end()}), 4.0 / 6.0);
  EXPECT_DOUBLE_EQ(WithinGroupAuc(r, g2), 4.0 / 6.0);  // x and y still have one class each
}

// 200 items: the weak model is right on the first 100, the strong one on all; `perfect` sends the
// weak model's misses to the strong one first, `flat` is random routing.
void TwoRouters(std::vector<RoutedItem>* perfect, std::vector<RoutedItem>* flat) {
  for (int i = 0; i < 200; ++i) {
    const bool weak = i < 100;
    perfect->push_back({weak ? 1.0 : 0.0, weak, true});
    flat->push_back({0.5, weak, true});
  }
}

TEST(RoutingEval, BootstrapOfARouterAgainstItselfIsZero) {
  std::vector<RoutedItem> a, b;
  TwoRouters(&a, &b);
  Rng rng(7);
  const PairedDifference d = BootstrapCallsSavedDifference(a, a, 50, 0.95, rng);
  EXPECT_EQ(d.reps, 50);
  EXPECT_DOUBLE_EQ(d.observed, 0.0);
  EXPECT_DOUBLE_EQ(d.mean, 0.0);
  EXPECT_DOUBLE_EQ(d.sd, 0.0);
}

TEST(RoutingEval, BootstrapCentresOnTheObservedDifferenceWithASpread) {
  std::vector<RoutedItem> perfect, flat;
  TwoRouters(&perfect, &flat);
  // perfect: 95% of 200 = 190 correct needs 90 of the 100 misses -> saved 55%; random needs 90% -> 10%.
  Rng rng(7);
  const PairedDifference d = BootstrapCallsSavedDifference(perfect, flat, 200, 0.95, rng);
  EXPECT_NEAR(d.observed, 0.55 - 0.10, 1e-12);
  EXPECT_NEAR(d.mean, d.observed, 0.03);
  EXPECT_GT(d.sd, 0.0);
  EXPECT_LT(d.sd, 0.1);
  // Deterministic for a seed.
  Rng again(7);
  EXPECT_DOUBLE_EQ(BootstrapCallsSavedDifference(perfect, flat, 200, 0.95, again).sd, d.sd);
}

}  // namespace
}  // namespace mec

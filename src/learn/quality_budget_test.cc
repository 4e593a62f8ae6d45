#include "learn/quality_budget.h"

#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "core/rng.h"

namespace mec {
namespace {

// One class routed many times: a cheap candidate of quality `cheap()` and the strongest (1.0);
// the router takes the cheap one whenever the gate admits it. Returns the chosen qualities.
template <typename Cheap>
std::vector<double> Route(QualityBudget& b, std::string_view use_case, double min, int n, Cheap cheap) {
  std::vector<double> chosen;
  for (int i = 0; i < n; ++i) {
    const double q = cheap();
    const QualityGate g = b.Gate(use_case, min);
    const double pick = g.Admits(q) ? q : 1.0;
    b.Charge(g, pick);
    chosen.push_back(pick);
  }
  return chosen;
}

double Mean(const std::vector<double>& v, size_t from, size_t to) {
  double s = 0;
  for (size_t i = from; i < to; ++i) s += v[i];
  return s / static_cast<double>(to - from);
}

TEST(QualityBudget, TargetIsMinPlusMarginOfTheShortfall) {
  QualityBudget b;  // margin 0.25
  EXPECT_DOUBLE_EQ(b.TargetFor(0.5), 0.625);
  EXPECT_DOUBLE_EQ(b.TargetFor(0.95), 0.9625);
  EXPECT_DOUBLE_EQ(b.TargetFor(1.0), 1.0);
  const QualityGate g = b.Gate("iot.sensor", 0.6);
  EXPECT_GE(g.slot, 0);
  EXPECT_DOUBLE_EQ(g.target, 0.7);
  // Initial state: nothing below the target is admitted (no credit yet).
  EXPECT_DOUBLE_EQ(g.Bar(), 0.7);
  EXPECT_FALSE(g.Admits(0.69));
  EXPECT_TRUE(g.Admits(0.7));
}

TEST(QualityBudget, ConvergesToTheTargetFromAbove) {
  // Cheap answers of quality U(0.3, 1): the class starts strict (only the strongest), its mean
  // comes down to the target, and stays at or above it.
  QualityBudget b;
  Rng rng(7, "test/cheap");
  auto chosen = Route(b, "gaming.npc-dialogue", 0.7, 4000, [&] { return 0.3 + 0.7 * rng.Uniform(); });
  const double target = b.TargetFor(0.7);  // 0.775
  auto cheap_share = [&](size_t from, size_t to) {
    int n = 0;
    for (size_t i = from; i < to; ++i) n += chosen[i] < 1.0;
    return static_cast<double>(n) / static_cast<double>(to - from);
  };
  // No credit at first: the first answer is at or above the target; from then on every prefix's
  // mean stays at or above it while the threshold comes down.
  EXPECT_GE(chosen[0], target);
  for (size_t i = 1; i <= chosen.size(); ++i) ASSERT_GE(Mean(chosen, 0, i), target - 1e-9) << i;
  // Then it settles at the target with most answers cheap, not just those above the minimum.
  EXPECT_NEAR(Mean(chosen, 1000, 4000), target, 0.02);
  EXPECT_GE(Mean(chosen, 0, 4000), target - 1e-9);
  EXPECT_GT(cheap_share(1000, 4000), 0.6);
}

TEST(QualityBudget, ConvergesToTheTargetFromBelow) {
  // The strongest tier is out for 300 requests (forced cheap answers of 0.4 drive the class far
  // below its minimum); once it is back the class climbs back to the target.
  QualityBudget b;
  const QualityGate g0 = b.Gate("vehicle.traffic", 0.8);
  for (int i = 0; i < 300; ++i) b.Charge(b.Gate("vehicle.traffic", 0.8), 0.4);
  const QualityGate low = b.Gate("vehicle.traffic", 0.8);
  EXPECT_LE(low.credit, -b.options().credit_cap + 1e-9);
  EXPECT_DOUBLE_EQ(low.Bar(), g0.target);  // in debt: only answers at the target pass
  Rng rng(3, "test/cheap");
  auto chosen = Route(b, "vehicle.traffic", 0.8, 4000, [&] { return 0.5 + 0.5 * rng.Uniform(); });
  EXPECT_GT(Mean(chosen, 0, 30), g0.target);  // paying back the debt first
  EXPECT_NEAR(Mean(chosen, 1000, 4000), g0.target, 0.02);
}

TEST(QualityBudget, NoCheapOptionAboveTheMinimumNeverTakesTheClassBelowIt) {
  // The cheap tier is always far below the minimum: the class's cumulative mean never drops
  // below its target (hence its minimum) at any point, and few cheap answers get through.
  QualityBudget b;
  const double min = 0.9, target = b.TargetFor(min);
  double sum = 0;
  int cheap = 0;
  for (int i = 1; i <= 2000; ++i) {
    const QualityGate g = b.Gate("", min);
    const double pick = g.Admits(0.2) ? 0.2 : 1.0;
    cheap += pick < 1;
    b.Charge(g, pick);
    sum += pick;
    ASSERT_GE(sum / i, target - 1e-9) << "after " << i;
  }
  EXPECT_LE(cheap, static_cast<int>(2000 * (1 - target) / (1 - 0.2)) + 2);
  // A class whose only option sits exactly at its minimum never admits anything below it.
  QualityBudget c;
  for (int i = 0; i < 500; ++i) {
    const QualityGate g = c.Gate("x", 0.7);
    ASSERT_FALSE(g.Admits(0.69));
    c.Charge(g, 0.7);
  }
}

TEST(QualityBudget, ClassesAreSeparate) {
  QualityBudget b;
  for (int i = 0; i < 100; ++i) b.Charge(b.Gate("a", 0.5), 1.0);
  EXPECT_LT(b.Gate("a", 0.5).Bar(), 0.5);
  EXPECT_DOUBLE_EQ(b.Gate("b", 0.5).Bar(), b.TargetFor(0.5));    // another use case
  EXPECT_DOUBLE_EQ(b.Gate("a", 0.6).Bar(), b.TargetFor(0.6));    // another minimum
  EXPECT_EQ(b.classes_in_use(), 3u);
}

TEST(QualityBudget, FullTableFallsBackToThePerRequestFloor) {
  QualityBudgetOptions o;
  o.max_classes = 2;
  QualityBudget b(o);
  EXPECT_GE(b.Gate("a", 0.5).slot, 0);
  EXPECT_GE(b.Gate("b", 0.5).slot, 0);
  const QualityGate g = b.Gate("c", 0.55);
  EXPECT_EQ(g.slot, -1);
  EXPECT_DOUBLE_EQ(g.Bar(), 0.55);
  EXPECT_TRUE(g.Admits(0.55));
  EXPECT_FALSE(g.Admits(0.54));
  b.Charge(g, 0.0);  // no-op
  EXPECT_EQ(b.classes_in_use(), 2u);
}

TEST(QualityBudget, Deterministic) {
  auto run = [] {
    QualityBudget b;
    Rng rng(11, "test/cheap");
    auto chosen = Route(b, "iot.sensor", 0.6, 1000, [&] { return rng.Uniform(); });
    const QualityGate g = b.Gate("iot.sensor", 0.6);
    chosen.push_back(g.threshold);
    chosen.push_back(g.credit);
    return chosen;
  };
  EXPECT_EQ(run(), run());
}

TEST(QualityBudget, ConcurrentUseStaysBounded) {
  QualityBudget b;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&b, t] {
      Rng rng(static_cast<uint64_t>(t), "test/thread");
      const std::string uc = t % 2 ? "a" : "b";
      for (int i = 0; i < 5000; ++i) {
        const QualityGate g = b.Gate(uc, 0.7);
        const double q = rng.Uniform();
        b.Charge(g, g.Admits(q) ? q : 1.0);
      }
    });
  for (auto& th : threads) th.join();
  for (const char* uc : {"a", "b"}) {
    const QualityGate g = b.Gate(uc, 0.7);
    EXPECT_LE(std::abs(g.credit), b.options().credit_cap + 1e-9);
    EXPECT_GE(g.threshold, 0.0);
    EXPECT_LE(g.threshold, g.target + 1e-9);
  }
  EXPECT_EQ(b.classes_in_use(), 2u);
}

}  // namespace
}  // namespace mec

#include "learn/output_tokens.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <thread>
#include <vector>

namespace mec {
namespace {

TEST(OutputTokenLearner, StartsAtThePrior) {
  OutputTokenLearner l({.default_prior = 300});
  l.SetPrior("math", 120);
  EXPECT_DOUBLE_EQ(l.Expected("math"), 120);
  EXPECT_DOUBLE_EQ(l.Expected("unknown"), 300);
  EXPECT_EQ(l.Observations("math"), 0);
}

TEST(OutputTokenLearner, EarlyOutcomesAverageWithThePrior) {
  OutputTokenLearner l({.default_prior = 100, .prior_weight = 4, .alpha = 0.01});
  l.Observe("chat", 200);
  // Running mean of the prior (weight 4) and one outcome: (4*100 + 200) / 5.
  EXPECT_NEAR(l.Expected("chat"), 120, 1e-9);
  for (int i = 0; i < 5; ++i) l.Observe("chat", 200);
  EXPECT_NEAR(l.Expected("chat"), (4 * 100 + 6 * 200) / 10.0, 1e-9);
  EXPECT_EQ(l.Observations("chat"), 6);
}

TEST(OutputTokenLearner, DataOutweighsThePriorAndFollowsChange) {
  OutputTokenLearner l({.default_prior = 100, .prior_weight = 5, .alpha = 0.05});
  for (int i = 0; i < 500; ++i) l.Observe("code", 800);
  EXPECT_NEAR(l.Expected("code"), 800, 1.0);
  for (int i = 0; i < 200; ++i) l.Observe("code", 400);  // the workload changes
  EXPECT_NEAR(l.Expected("code"), 400, 5.0);
}

TEST(OutputTokenLearner, IgnoresInvalidOutcomesAndBoundsClasses) {
  OutputTokenLearner l({.default_prior = 50, .max_classes = 2});
  l.Observe("a", -5);
  l.Observe("a", std::nan(""));
  EXPECT_EQ(l.Observations("a"), 0);
  l.Observe("a", 10);
  l.Observe("b", 10);
  l.Observe("c", 10);  // beyond max_classes: not learned
  EXPECT_EQ(l.num_classes(), 2u);
  EXPECT_DOUBLE_EQ(l.Expected("c"), 50);
  EXPECT_LT(l.Expected("a"), 50);
}

TEST(OutputTokenLearner, ConcurrentObserversAndReaders) {
  OutputTokenLearner l({.default_prior = 100});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&l, t] {
      const std::string cls = "class" + std::to_string(t % 2);
      for (int i = 0; i < 2000; ++i) {
        l.Observe(cls, 100 + (i % 10));
        (void)l.Expected(cls);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(l.Observations("class0") + l.Observations("class1"), 8000);
  EXPECT_NEAR(l.Expected("class0"), 104.5, 5.0);
}

}  // namespace
}  // namespace mec

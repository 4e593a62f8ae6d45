#include "learn/quality_feedback.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <thread>
#include <vector>

namespace mec {
namespace {

TEST(QualityFeedback, WithoutFeedbackReturnsThePrediction) {
  QualityFeedback f;
  EXPECT_DOUBLE_EQ(f.Adjusted("edge-1", "math", 0.8), 0.8);
  EXPECT_DOUBLE_EQ(f.Adjusted("edge-1", "math", 1.7), 1.0);  // clamped
  EXPECT_DOUBLE_EQ(f.Adjusted("edge-1", "math", -1), 0.0);
}

TEST(QualityFeedback, PosteriorMeanCombinesPriorAndScores) {
  QualityFeedback f({.prior_strength = 10});
  ASSERT_TRUE(f.Observe("edge-1", "math", 0.0).ok());
  // (10 * 0.8 + 0) / (10 + 1)
  EXPECT_NEAR(f.Adjusted("edge-1", "math", 0.8), 8.0 / 11.0, 1e-12);
  const QualityPosterior p = f.Posterior("edge-1", "math", 0.8);
  EXPECT_NEAR(p.alpha, 8.0, 1e-12);
  EXPECT_NEAR(p.beta, 3.0, 1e-12);
  EXPECT_DOUBLE_EQ(p.observations, 1);
  // Other pairs are untouched.
  EXPECT_DOUBLE_EQ(f.Adjusted("edge-1", "chat", 0.8), 0.8);
  EXPECT_DOUBLE_EQ(f.Adjusted("edge-2", "math", 0.8), 0.8);
}

TEST(QualityFeedback, EarlyFeedbackMovesItLaterFeedbackRefines) {
  QualityFeedback f({.prior_strength = 10});
  // The router predicts 0.9, but the backend's answers score 0.5 on average.
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(f.Observe("dev", "qa", i % 2 ? 1.0 : 0.0).ok());
  const double after10 = f.Adjusted("dev", "qa", 0.9);
  EXPECT_NEAR(after10, (9.0 + 5.0) / 20.0, 1e-12);  // halfway: the prior and the data weigh the same
  for (int i = 0; i < 990; ++i) ASSERT_TRUE(f.Observe("dev", "qa", i % 2 ? 1.0 : 0.0).ok());
  const double after1000 = f.Adjusted("dev", "qa", 0.9);
  EXPECT_NEAR(after1000, 0.5, 0.01);
  // The first ten scores moved it by 0.2; the next 990 only by less than that.
  EXPECT_GT(0.9 - after10, after10 - after1000);
}

TEST(QualityFeedback, RejectsScoresOutsideTheUnitInterval) {
  QualityFeedback f;
  EXPECT_FALSE(f.Observe("a", "b", 1.5).ok());
  EXPECT_FALSE(f.Observe("a", "b", -0.1).ok());
  EXPECT_FALSE(f.Observe("a", "b", std::nan("")).ok());
  EXPECT_EQ(f.num_keys(), 0u);
}

TEST(QualityFeedback, OldFeedbackFadesBeyondMaxObservations) {
  QualityFeedback f({.prior_strength = 10, .max_observations = 100});
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(f.Observe("b", "c", 1.0).ok());
  for (int i = 0; i < 300; ++i) ASSERT_TRUE(f.Observe("b", "c", 0.0).ok());
  const QualityPosterior p = f.Posterior("b", "c", 0.5);
  EXPECT_DOUBLE_EQ(p.observations, 100);
  EXPECT_LT(p.mean, 0.1);  // the recent zeros dominate
}

TEST(QualityFeedback, EvictsTheOldestPairBeyondMaxKeys) {
  QualityFeedback f({.max_keys = 3});
  ASSERT_TRUE(f.Observe("b1", "x", 0.0).ok());
  ASSERT_TRUE(f.Observe("b1", "y", 0.0).ok());
  ASSERT_TRUE(f.Observe("b2", "x", 0.0).ok());
  ASSERT_TRUE(f.Observe("b2", "x", 0.0).ok());  // an existing pair: no eviction
  EXPECT_EQ(f.num_keys(), 3u);
  ASSERT_TRUE(f.Observe("b3", "z", 0.0).ok());  // evicts (b1, x)
  EXPECT_EQ(f.num_keys(), 3u);
  EXPECT_DOUBLE_EQ(f.Adjusted("b1", "x", 0.7), 0.7);
  EXPECT_LT(f.Adjusted("b1", "y", 0.7), 0.7);
  EXPECT_LT(f.Adjusted("b3", "z", 0.7), 0.7);
}

// AdjustAll is Adjusted for every backend, bit for bit: before any feedback, for a class without
// feedback, and for a class with feedback for few backends (names compared) or many (hashed).
TEST(QualityFeedback, AdjustAllEqualsAdjustedPerBackend) {
  QualityFeedback f;
  std::vector<std::string> names;
  for (int i = 0; i < 12; ++i) names.push_back("edge-" + std::to_string(i));
  std::vector<std::string_view> views(names.begin(), names.end());
  auto check = [&](std::string_view task_class) {
    std::vector<double> q;
    for (size_t i = 0; i < names.size(); ++i) q.push_back(-0.2 + 0.11 * static_cast<double>(i));  // some out of [0, 1]
    std::vector<double> want;
    for (size_t i = 0; i < names.size(); ++i) want.push_back(f.Adjusted(names[i], task_class, q[i]));
    f.AdjustAll(task_class, views, q);
    for (size_t i = 0; i < names.size(); ++i) EXPECT_EQ(q[i], want[i]) << names[i] << " " << task_class;
  };
  check("chat");  // nothing published yet
  ASSERT_TRUE(f.Observe("edge-3", "chat", 0.2).ok());
  ASSERT_TRUE(f.Observe("other", "chat", 0.9).ok());  // not among the names
  check("chat");
  check("math");  // no feedback for the class
  for (int i = 0; i < 12; i += 2) ASSERT_TRUE(f.Observe(names[i], "math", 0.1 * i).ok());
  check("math");  // 6 backends: looked up by hash
  check("chat");
  check("");
}

TEST(QualityFeedback, ConcurrentFeedbackAndReads) {
  QualityFeedback f({.prior_strength = 10, .max_observations = 1e9, .max_keys = 8});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&f, t] {
      for (int i = 0; i < 2000; ++i) {
        (void)f.Observe("b" + std::to_string(i % 3), "c" + std::to_string(t % 2), 0.5);
        (void)f.Adjusted("b0", "c0", 0.9);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(f.num_keys(), 6u);
  const QualityPosterior p = f.Posterior("b0", "c0", 0.9);
  EXPECT_NEAR(p.observations, 2 * 667, 1e-9);  // threads 0 and 2, i % 3 == 0
}

TEST(QualityFeedback, RemoteSumsArePooledCappedListedApartAndCleared) {
  QualityFeedback f({.prior_strength = 10});
  ASSERT_TRUE(f.Observe("edge-1", "math", 1.0).ok());
  ASSERT_TRUE(f.Observe("edge-1", "math", 1.0).ok());
  ASSERT_TRUE(f.Observe("cloud", "chat", 0.5).ok());
  // Another gateway saw edge-1 fail at math 200 times (mean 0.1) and cloud at chat 4 times;
  // junk entries are skipped.
  const size_t kept = f.SetRemote({{"edge-1", "math", 20, 200}, {"cloud", "chat", 4, 4}, {"edge-2", "qa", 5, 4},
                                   {"edge-2", "qa", 1, 0}, {"edge-3", "qa", NAN, 3}},
                                  50);
  EXPECT_EQ(kept, 2u);
  EXPECT_EQ(f.num_remote_keys(), 2u);
  // edge-1/math: prior 10 x 0.8, local 2 of 2, remote capped at 50 with its mean 0.1 (5 of 50).
  EXPECT_NEAR(f.Adjusted("edge-1", "math", 0.8), (8.0 + 2.0 + 5.0) / (10.0 + 2.0 + 50.0), 1e-12);
  const QualityPosterior p = f.Posterior("edge-1", "math", 0.8);
  EXPECT_DOUBLE_EQ(p.observations, 52);
  EXPECT_NEAR(p.mean, 15.0 / 62.0, 1e-12);
  // The lock-free batch read agrees bit for bit.
  std::vector<std::string_view> names = {"edge-1", "cloud", "edge-9"};
  std::vector<double> q = {0.8, 0.6, 0.7};
  f.AdjustAll("math", names, q);
  EXPECT_EQ(q[0], f.Adjusted("edge-1", "math", 0.8));
  EXPECT_NEAR(q[2], 0.7, 1e-12);  // no feedback for edge-9: the prediction
  q = {0.8, 0.6, 0.7};
  f.AdjustAll("chat", names, q);
  EXPECT_NEAR(q[1], (6.0 + 0.5 + 4.0) / (10.0 + 1.0 + 4.0), 1e-12);  // below the cap: counted as given
  // List shows this gateway's own feedback only, the most observed first.
  const std::vector<QualityCount> own = f.List(10);
  ASSERT_EQ(own.size(), 2u);
  EXPECT_EQ(own[0].backend, "edge-1");
  EXPECT_EQ(own[0].n, 2);
  EXPECT_EQ(own[0].score, 2);
  EXPECT_EQ(own[1].backend, "cloud");
  EXPECT_EQ(f.List(1).size(), 1u);
  EXPECT_EQ(f.num_keys(), 2u);
  // A new remote set replaces the old one; clearing leaves the local feedback alone.
  f.SetRemote({{"cloud", "chat", 0, 2}}, 50);
  EXPECT_NEAR(f.Adjusted("edge-1", "math", 0.8), 10.0 / 12.0, 1e-12);
  EXPECT_NEAR(f.Adjusted("cloud", "chat", 0.6), 6.5 / 13.0, 1e-12);
  f.ClearRemote();
  EXPECT_EQ(f.num_remote_keys(), 0u);
  EXPECT_NEAR(f.Adjusted("cloud", "chat", 0.6), 6.5 / 11.0, 1e-12);
  // Remote only, no local feedback for the pair: the remote sums alone.
  f.SetRemote({{"edge-7", "code", 1, 10}}, 5);  // capped: mean 0.1 as 5 scores
  EXPECT_NEAR(f.Adjusted("edge-7", "code", 0.5), (5.0 + 0.5) / 15.0, 1e-12);
}

TEST(QualityFeedback, SeedAddsSumsAsIfObservedHere) {
  QualityFeedback old({.prior_strength = 10});
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(old.Observe("edge-1", "math", i == 0 ? 1.0 : 0.0).ok());
  ASSERT_TRUE(old.Observe("cloud", "chat", 1.0).ok());
  QualityFeedback next({.prior_strength = 10});
  ASSERT_TRUE(next.Observe("edge-1", "math", 1.0).ok());
  std::vector<QualityCount> carried = old.List(100);
  carried.push_back({"edge-2", "qa", 3, 2});   // score above n: skipped
  carried.push_back({"edge-2", "qa", 0, 0});   // no observation: skipped
  EXPECT_EQ(next.Seed(carried), 2u);
  // edge-1/math: 1 of 4 carried over plus 1 of 1 here.
  EXPECT_NEAR(next.Adjusted("edge-1", "math", 0.8), (8.0 + 2.0) / (10.0 + 5.0), 1e-12);
  EXPECT_DOUBLE_EQ(next.Posterior("cloud", "chat", 0.5).observations, 1);
  EXPECT_EQ(next.num_keys(), 2u);
  EXPECT_EQ(next.num_remote_keys(), 0u);  // local sums, listed and published as this gateway's own
  EXPECT_EQ(next.List(10)[0].n, 5);
  // Fading applies as for observed scores.
  QualityFeedback small({.prior_strength = 10, .max_observations = 3});
  small.Seed({{"edge-1", "math", 2, 10}});
  EXPECT_DOUBLE_EQ(small.Posterior("edge-1", "math", 0.5).observations, 3);
  EXPECT_NEAR(small.Posterior("edge-1", "math", 0.5).alpha, 5.0 + 0.6, 1e-12);
}

}  // namespace
}  // namespace mec

#include "learn/logistic_trainer.h"

#include <gtest/gtest.h>

#include "core/rng.h"

namespace mec {
namespace {

// Two clusters separated along feature 0; feature 1 is noise; feature 2 is the same constant
// for every row.
SparseDataset Toy(uint64_t seed) {
  SparseDataset d;
  d.dim = 3;
  Rng rng(seed, "toy");
  for (int i = 0; i < 200; ++i) {
    const bool pos = i % 2 == 0;
    SparseVector x;
    x.Add(0, static_cast<float>((pos ? 1.0 : -1.0) + rng.Uniform(-0.5, 0.5)));
    x.Add(1, static_cast<float>(rng.Normal()));
    x.Add(2, 3.0f);
    d.rows.push_back(x);
    d.labels.push_back(pos ? 1.0 : 0.0);
  }
  return d;
}

TEST(LogisticTrainer, LearnsSeparableToySet) {
  const SparseDataset d = Toy(1);
  LogisticOptions o;
  o.l2 = 1e-3;
  auto fit = TrainLogistic(d, o);
  ASSERT_TRUE(fit.ok()) << fit.status().message();
  int right = 0;
  for (size_t i = 0; i < d.rows.size(); ++i) right += (fit->Probability(d.rows[i]) > 0.5) == (d.labels[i] > 0.5);
  EXPECT_EQ(right, 200);
  EXPECT_GT(fit->weights[0], 1.0);
  EXPECT_GT(std::abs(fit->weights[0]), 10 * std::abs(fit->weights[1]));
  // Held-out points from the same clusters.
  SparseVector pos, neg;
  pos.Add(0, 1.2f);
  neg.Add(0, -0.8f);
  EXPECT_GT(fit->Probability(pos), 0.9);
  EXPECT_LT(fit->Probability(neg), 0.1);
}

TEST(LogisticTrainer, ConstantFeatureGetsNoWeight) {
  for (size_t standardize_from : {size_t{0}, std::numeric_limits<size_t>::max()}) {
    LogisticOptions o;
    o.l2 = 1e-2;
    o.standardize_from = standardize_from;
    auto fit = TrainLogistic(Toy(2), o);
    ASSERT_TRUE(fit.ok());
    EXPECT_NEAR(fit->weights[2], 0.0, 1e-4) << "standardize_from=" << standardize_from;
  }
}

TEST(LogisticTrainer, StandardisationChangesScaleNotDecisions) {
  SparseDataset d = Toy(3);
  LogisticOptions o;
  o.l2 = 1e-4;
  o.standardize_from = 0;
  auto fit = TrainLogistic(d, o);
  ASSERT_TRUE(fit.ok());
  int right = 0;
  for (size_t i = 0; i < d.rows.size(); ++i) right += (fit->Probability(d.rows[i]) > 0.5) == (d.labels[i] > 0.5);
  EXPECT_EQ(right, 200);
}

TEST(LogisticTrainer, DeterministicBitForBit) {
  LogisticOptions o;
  auto a = TrainLogistic(Toy(4), o);
  auto b = TrainLogistic(Toy(4), o);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->weights, b->weights);
  EXPECT_EQ(a->bias, b->bias);
}

TEST(LogisticTrainer, StrongerL2ShrinksWeights) {
  LogisticOptions weak, strong;
  weak.l2 = 1e-4;
  strong.l2 = 1.0;
  auto a = TrainLogistic(Toy(5), weak);
  auto b = TrainLogistic(Toy(5), strong);
  EXPECT_GT(std::abs(a->weights[0]), std::abs(b->weights[0]));
}

TEST(LogisticTrainer, PriorOnlyWithoutFeatures) {
  SparseDataset d;
  d.dim = 1;
  for (int i = 0; i < 10; ++i) {
    d.rows.emplace_back();
    d.labels.push_back(i < 8 ? 1.0 : 0.0);
  }
  auto fit = TrainLogistic(d, LogisticOptions());
  ASSERT_TRUE(fit.ok());
  EXPECT_NEAR(Sigmoid(fit->bias), 0.8, 1e-6);
}

TEST(LogisticTrainer, RejectsBadInput) {
  SparseDataset d;
  d.dim = 1;
  EXPECT_FALSE(TrainLogistic(d, LogisticOptions()).ok());  // no rows
  SparseVector x;
  x.Add(5, 1.0f);
  d.rows.push_back(x);
  d.labels.push_back(1.0);
  EXPECT_FALSE(TrainLogistic(d, LogisticOptions()).ok());  // index out of range
}

}  // namespace
}  // namespace mec

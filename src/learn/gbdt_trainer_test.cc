#include "learn/gbdt_trainer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "core/rng.h"
#include "learn/logistic_trainer.h"

namespace mec {
namespace {

// XOR of the signs of features 0 and 1 (an interaction no linear model can learn); feature 2 is
// noise. Labels are noisy-free; 400 rows.
DenseRows Xor(uint64_t seed, std::vector<double>* labels) {
  DenseRows d;
  d.dim = 3;
  Rng rng(seed, "xor");
  labels->clear();
  for (int i = 0; i < 400; ++i) {
    const double a = rng.Uniform(-1, 1), b = rng.Uniform(-1, 1);
    d.x.push_back(static_cast<float>(a));
    d.x.push_back(static_cast<float>(b));
    d.x.push_back(static_cast<float>(rng.Normal()));
    labels->push_back((a > 0) != (b > 0) ? 1.0 : 0.0);
  }
  return d;
}

int Right(const GbdtModel& m, const DenseRows& d, const std::vector<double>& y) {
  int right = 0;
  for (size_t i = 0; i < d.rows(); ++i) right += (m.Margin(d.row(i)) > 0) == (y[i] > 0.5);
  return right;
}

TEST(GbdtTrainer, LearnsAnInteractionALinearModelCannot) {
  std::vector<double> y;
  const DenseRows d = Xor(1, &y);
  GbdtOptions o;
  o.trees = 60;
  o.depth = 2;
  o.learning_rate = 0.3;
  o.min_leaf = 10;
  auto m = TrainGbdt(d, y, std::vector<double>(y.size(), 0.0), o);
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_GE(Right(*m, d, y), 380);
  // Held-out rows from the same rule.
  std::vector<double> y2;
  const DenseRows d2 = Xor(2, &y2);
  EXPECT_GE(Right(*m, d2, y2), 360);
  // A logistic regression on the same features stays near chance.
  SparseDataset s;
  s.dim = 3;
  for (size_t i = 0; i < d.rows(); ++i) {
    SparseVector x;
    for (size_t j = 0; j < 3; ++j) x.Add(static_cast<uint32_t>(j), d.row(i)[j]);
    s.rows.push_back(x);
    s.labels.push_back(y[i]);
  }
  auto lin = TrainLogistic(s, LogisticOptions());
  ASSERT_TRUE(lin.ok());
  int lin_right = 0;
  for (size_t i = 0; i < s.rows.size(); ++i) lin_right += (lin->Probability(s.rows[i]) > 0.5) == (y[i] > 0.5);
  EXPECT_LT(lin_right, 280);
}

TEST(GbdtTrainer, IsDeterministicAndRoundTrips) {
  std::vector<double> y;
  const DenseRows d = Xor(3, &y);
  GbdtOptions o;
  o.trees = 20;
  auto a = TrainGbdt(d, y, std::vector<double>(y.size(), 0.1), o);
  auto b = TrainGbdt(d, y, std::vector<double>(y.size(), 0.1), o);
  ASSERT_TRUE(a.ok() && b.ok());
  std::string ta, tb;
  a->AppendTo(&ta);
  b->AppendTo(&tb);
  EXPECT_EQ(ta, tb);
  std::string_view text = ta;
  auto back = GbdtModel::Parse(&text, 3);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_TRUE(text.empty());
  for (size_t i = 0; i < d.rows(); ++i) EXPECT_EQ(back->Margin(d.row(i)), a->Margin(d.row(i)));
  // A model that reads feature 2 is rejected for 2-feature inputs.
  std::string_view again = ta;
  if (a->MinFeatures() == 3) {
    EXPECT_FALSE(GbdtModel::Parse(&again, 2).ok());
  }
}

TEST(GbdtTrainer, ConstantFeaturesGiveOneLeafAtTheBaseRate) {
  DenseRows d;
  d.dim = 2;
  std::vector<double> y;
  for (int i = 0; i < 100; ++i) {
    d.x.push_back(1.0f);
    d.x.push_back(-2.0f);
    y.push_back(i % 4 == 0 ? 1.0 : 0.0);
  }
  GbdtOptions o;
  o.trees = 200;
  o.learning_rate = 0.5;
  o.leaf_l2 = 0;
  auto m = TrainGbdt(d, y, std::vector<double>(y.size(), 0.0), o);
  ASSERT_TRUE(m.ok());
  for (const auto& t : m->trees()) EXPECT_EQ(t.nodes.size(), 1u);
  EXPECT_NEAR(1.0 / (1.0 + std::exp(-m->Margin(d.row(0)))), 0.25, 1e-3);
}

TEST(GbdtTrainer, RejectsBadInput) {
  DenseRows d;
  d.dim = 1;
  d.x = {1.0f, 2.0f};
  GbdtOptions o;
  EXPECT_FALSE(TrainGbdt(d, {1.0}, {0.0, 0.0}, o).ok());
  o.depth = 0;
  EXPECT_FALSE(TrainGbdt(d, {1.0, 0.0}, {0.0, 0.0}, o).ok());
}

TEST(GbdtModelParse, RejectsBackwardChildren) {
  std::string_view bad = "trees 1\ntree 3\n0 0.5 0 2 0\n-1 0 -1 -1 1\n-1 0 -1 -1 2\n";
  EXPECT_FALSE(GbdtModel::Parse(&bad, 1).ok());
  std::string_view good = "trees 1\ntree 3\n0 0.5 1 2 0\n-1 0 -1 -1 1\n-1 0 -1 -1 2\n";
  auto m = GbdtModel::Parse(&good, 1);
  ASSERT_TRUE(m.ok()) << m.status().message();
  const float lo = 0.25f, hi = 0.75f;
  EXPECT_EQ(m->Margin(&lo), 1.0);
  EXPECT_EQ(m->Margin(&hi), 2.0);
}

}  // namespace
}  // namespace mec

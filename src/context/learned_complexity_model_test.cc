#include "context/learned_complexity_model.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>

#include "core/rng.h"

namespace mec {
namespace {

std::unique_ptr<LearnedComplexityModel> SmallModel() {
  TextFeatureOptions o;
  o.hash_bits = 10;
  std::vector<double> w(FeatureSpaceSize(o), 0.0);
  Rng rng(7, "model-test");
  for (size_t i = 0; i < w.size(); i += 3) w[i] = rng.Normal(0.0, 0.3);
  return LearnedComplexityModel::FromWeights("test-model", o, w, 0.25);
}

TEST(LearnedComplexityModel, SaveLoadRoundTripGivesIdenticalPredictions) {
  auto m = SmallModel();
  const std::string path = ::testing::TempDir() + "/complexity_roundtrip.model";
  ASSERT_TRUE(m->Save(path).ok());
  auto back = LearnedComplexityModel::Load(path);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ((*back)->Name(), "test-model");
  EXPECT_EQ((*back)->options(), m->options());
  EXPECT_EQ((*back)->weights(), m->weights());
  EXPECT_EQ((*back)->bias(), m->bias());
  for (std::string_view p : {"What is 2+2?", "Statement 1 | Every group is abelian.\nA. True\nB. False", ""}) {
    EXPECT_EQ((*back)->WeakAsGoodProbability(p), m->WeakAsGoodProbability(p)) << p;
  }
  EXPECT_EQ((*back)->Serialize(), m->Serialize());
  std::remove(path.c_str());
}

TEST(LearnedComplexityModel, SecondStageRoundTripsAndChangesTheLogit) {
  auto m = SmallModel();
  const std::string mc = "Statement 1 | Every group is abelian.\nA. True\nB. False";
  const std::string ff = "What is 2+2?";
  const double plain_mc = m->Logit(mc), plain_ff = m->Logit(ff);
  ComplexityStacker st;
  StackStage& s = st.stages[static_cast<int>(PromptType::kMultipleChoice)];
  s.enabled = true;
  s.linear = {0.5f, 2.0f, 0.0f};
  s.calib_a = 0.25f;
  s.calib_b = 0.5f;
  // One split on the first stage's logit (feature 0), one on a dense feature.
  std::string_view trees = "trees 2\ntree 3\n0 0 1 2 0\n-1 0 -1 -1 -0.5\n-1 0 -1 -1 0.75\ntree 3\n3 1e9 1 2 0\n-1 0 -1 -1 0.125\n-1 0 -1 -1 -1\n";
  auto g = GbdtModel::Parse(&trees, kNumStackFeatures);
  ASSERT_TRUE(g.ok()) << g.status().message();
  s.trees = std::move(g).value();
  m->set_stacker(st);
  // 0.25 + 0.5 * (0.5 + 2 z + tree1(z) + 0.125); free-form prompts have no stage and keep z.
  const double tree1 = plain_mc <= 0 ? -0.5 : 0.75;
  EXPECT_NEAR(m->Logit(mc), 0.25 + 0.5 * (0.5 + 2 * plain_mc + tree1 + 0.125), 1e-5);
  EXPECT_EQ(m->Logit(ff), plain_ff);
  auto back = LearnedComplexityModel::Parse(m->Serialize());
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_TRUE((*back)->stacker().enabled());
  EXPECT_EQ((*back)->Serialize(), m->Serialize());
  for (const std::string& p : {ff, mc, std::string()})
    EXPECT_EQ((*back)->WeakAsGoodProbability(p), m->WeakAsGoodProbability(p)) << p;
  // A tree that reads a feature the second stage does not have is rejected.
  std::string text = m->Serialize();
  text.replace(text.find("\n3 1e+09 1 2 0\n"), 15, "\n99 1e+09 1 2 0\n");
  EXPECT_FALSE(LearnedComplexityModel::Parse(text).ok());
}

TEST(StackFeatures, ReadsTheFirstStageTheDomainPriorAndTheDenseFeatures) {
  auto m = SmallModel();
  for (const std::string& p : {std::string("Statement 1 | Every group is abelian.\nA. True\nB. False"),
                               std::string("Tom has 3 apples and buys 12 more. How many apples does he have?")}) {
    SparseVector x;
    const PromptType type = m->Features(p, &x);
    AppendDomainFeatures(0.75, type, m->options(), &x);
    const StackFeatureVector f = StackFeatures(x, type, 1.5, m->options());
    EXPECT_EQ(f[0], 1.5f);
    EXPECT_EQ(f[1], 0.75f);
    EXPECT_EQ(f[2], type == PromptType::kFreeForm ? 1.0f : 0.0f);
    const auto dense = DenseTextFeatures(p);
    for (int j = 0; j < kNumDense; ++j) EXPECT_EQ(f[3 + j], dense[j]) << DenseFeatureNames()[j];
  }
}

// E[G]: the domain posterior's expectation of the per-domain gains stored with the second stage.
TEST(LearnedComplexityModel, DomainGainFeedsTheSecondStage) {
  TextFeatureOptions o;
  o.hash_bits = 10;
  // Two equally likely domains whatever the text (no known tokens): posterior 1/2 each.
  const float half = std::log(0.5f);
  DomainPrior prior(10, 1.0f, {{half, -5.0f, 1.0f}, {half, -5.0f, -1.0f}}, {}, {});
  auto m = std::make_unique<LearnedComplexityModel>("gain-test", o, std::vector<float>(ModelFeatureSpaceSize(o), 0.0f),
                                                     0.5f, prior);
  const std::string mc = "Which is right?\nA. one\nB. two";
  const double z = m->Logit(mc);
  EXPECT_NEAR(z, 0.5, 1e-6);  // E[D] = 0
  ComplexityStacker st;
  StackStage& s = st.stages[static_cast<int>(PromptType::kMultipleChoice)];
  s.enabled = true;
  std::string_view trees = "trees 1\ntree 3\n27 -0.05 1 2 0\n-1 0 -1 -1 1\n-1 0 -1 -1 -1\n";
  ASSERT_EQ(kStackDomainGainFeature, 27);
  auto g = GbdtModel::Parse(&trees, kNumStackFeatures);
  ASSERT_TRUE(g.ok()) << g.status().message();
  s.trees = std::move(g).value();
  st.class_gain = {0.2f, -0.4f};  // E[G] = -0.1: left leaf
  m->set_stacker(st);
  EXPECT_NEAR(m->Logit(mc), z + 1.0, 1e-6);
  st.class_gain = {0.4f, 0.2f};  // E[G] = 0.3: right leaf
  m->set_stacker(st);
  EXPECT_NEAR(m->Logit(mc), z - 1.0, 1e-6);
  auto back = LearnedComplexityModel::Parse(m->Serialize());
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ((*back)->stacker().class_gain, st.class_gain);
  EXPECT_EQ((*back)->Logit(mc), m->Logit(mc));
  // One gain per domain class, or the file is rejected.
  std::string text = m->Serialize();
  text.replace(text.find("classgain 2 0.4 0.2"), 19, "classgain 1 0.4");
  EXPECT_FALSE(LearnedComplexityModel::Parse(text).ok());
}

TEST(LearnedComplexityModel, UnquantisedWeightsAlsoRoundTrip) {
  TextFeatureOptions o;
  o.hash_bits = 8;
  std::vector<float> w(FeatureSpaceSize(o), 0.0f);
  w[3] = 0.1f;
  w[200] = -1.0f / 3.0f;
  LearnedComplexityModel m("raw", o, w, -0.5f);
  auto back = LearnedComplexityModel::Parse(m.Serialize());
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ((*back)->weights(), m.weights());
}

TEST(LearnedComplexityModel, ProbabilityIsSigmoidOfLogit) {
  auto m = SmallModel();
  const std::string_view p = "A train leaves at 3 pm at 60 km/h. When does it arrive 150 km away?";
  const double z = m->Logit(p);
  EXPECT_NEAR(m->WeakAsGoodProbability(p), 1.0 / (1.0 + std::exp(-z)), 1e-12);
  const double q = m->WeakAsGoodProbability(p);
  EXPECT_GT(q, 0.0);
  EXPECT_LT(q, 1.0);
}

TEST(LearnedComplexityModel, RejectsMalformedFiles) {
  const std::string good = SmallModel()->Serialize();
  EXPECT_FALSE(LearnedComplexityModel::Parse("").ok());
  EXPECT_FALSE(LearnedComplexityModel::Parse("not a model\n").ok());
  EXPECT_FALSE(LearnedComplexityModel::Parse(good.substr(0, good.size() / 2)).ok());  // truncated
  std::string bad_features = good;
  bad_features.replace(bad_features.find("hash_bits=10"), 12, "hash_bits=99");
  EXPECT_FALSE(LearnedComplexityModel::Parse(bad_features).ok());
  EXPECT_FALSE(LearnedComplexityModel::Load("/nonexistent/complexity.model").ok());
}

TEST(ComplexityTrainSplit, IsDeterministicAndAboutSeventyPercent) {
  int train = 0;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    const std::string id = "mmlu/test_subject/" + std::to_string(i);
    EXPECT_EQ(IsComplexityTrainId(id), IsComplexityTrainId(id));
    train += IsComplexityTrainId(id);
  }
  EXPECT_NEAR(static_cast<double>(train) / n, 0.7, 0.02);
  // Pinned: changing the rule would silently let the simulator draw training prompts.
  EXPECT_EQ(IsComplexityTrainId("mmlu/abstract_algebra/0"), Fnv1a64("mmlu/abstract_algebra/0") % 10 < 7);
}

TEST(DefaultComplexityModel, EmbeddedModelParses) {
  const std::string_view text = EmbeddedDefaultComplexityModelText();
  const bool committed = std::filesystem::exists(std::string(MEC_SOURCE_DIR) + "/models/complexity_default.model");
  if (!committed) GTEST_SKIP() << "models/complexity_default.model is not in this checkout";
  ASSERT_FALSE(text.empty()) << "the build did not embed models/complexity_default.model";
  auto parsed = LearnedComplexityModel::Parse(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  auto m = LoadDefaultComplexityModel();
  ASSERT_NE(m, nullptr);
  EXPECT_NE(m->Name(), "fallback-prior");
  // A hard-looking maths question should look harder than a simple factual one.
  const double easy = m->WeakAsGoodProbability("What is the capital of France?\nA. Paris\nB. Rome\nC. Berlin\nD. Madrid\nAnswer:");
  const double hard = m->WeakAsGoodProbability(
      "Statement 1 | Every integral domain with characteristic 0 is infinite. Statement 2 | Every integral domain "
      "with prime characteristic is finite.\nA. True, True\nB. False, False\nC. True, False\nD. False, True\nAnswer:");
  EXPECT_GT(easy, hard);
}

}  // namespace
}  // namespace mec

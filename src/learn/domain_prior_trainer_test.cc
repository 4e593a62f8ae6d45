#include "learn/domain_prior_trainer.h"

#include <gtest/gtest.h>

#include <cmath>

#include "context/learned_complexity_model.h"
#include "context/text_features.h"

namespace mec {
namespace {

// Domain 0 talks about cells and is easy (weak model as good 9 times in 10); domain 1 talks about
// integrals and is hard (3 in 10).
struct Toy {
  std::vector<std::vector<uint64_t>> tokens;
  std::vector<DomainExample> examples;
  Toy() {
    const char* texts[2] = {"the cell membrane and the cell nucleus of a plant cell", "evaluate the integral of x squared dx from zero"};
    tokens.resize(20);
    for (int i = 0; i < 20; ++i) HashWordTokens(texts[i % 2], &tokens[i]);
    for (int i = 0; i < 20; ++i) {
      const int d = i % 2, k = i / 2;
      examples.push_back({&tokens[i], d, d == 0 ? k != 0 : k < 3});
    }
  }
};

TEST(DomainPriorTrainer, ExpectedDifficultyFollowsTheDomain) {
  Toy toy;
  DomainPriorOptions o;
  o.hash_bits = 10;
  o.value_pseudo_count = 0;
  const DomainPrior prior = TrainDomainPrior(toy.examples, 2, 1.0f, o);
  ASSERT_EQ(prior.classes().size(), 2u);
  EXPECT_NEAR(prior.classes()[0].value, std::log(0.9 / 0.1), 1e-5);
  EXPECT_NEAR(prior.classes()[1].value, std::log(0.3 / 0.7), 1e-5);
  EXPECT_NEAR(prior.ExpectedValue("a cell wall around the nucleus"), prior.classes()[0].value, 0.05);
  EXPECT_NEAR(prior.ExpectedValue("the integral of x dx"), prior.classes()[1].value, 0.05);
  // No known word: the prior's class mix (half and half here).
  EXPECT_NEAR(prior.ExpectedValue("zebra"), 0.5 * (prior.classes()[0].value + prior.classes()[1].value), 1e-5);
}

TEST(DomainPriorTrainer, SurvivesTheModelFileRoundTrip) {
  Toy toy;
  DomainPriorOptions o;
  o.hash_bits = 10;
  TextFeatureOptions f;
  f.hash_bits = 10;
  std::vector<double> w(ModelFeatureSpaceSize(f), 0.0);
  w[FeatureSpaceSize(f)] = 0.7;  // weight of E[D]
  w[3] = -0.2;
  auto m = LearnedComplexityModel::FromWeights("with-domain", f, w, 0.1, TrainDomainPrior(toy.examples, 2, 0.5f, o));
  auto back = LearnedComplexityModel::Parse(m->Serialize());
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ((*back)->Serialize(), m->Serialize());
  for (std::string_view p : {"the cell nucleus", "integral of x", "nothing known", ""})
    EXPECT_EQ((*back)->WeakAsGoodProbability(p), m->WeakAsGoodProbability(p)) << p;
  EXPECT_GT(m->WeakAsGoodProbability("the cell nucleus"), m->WeakAsGoodProbability("integral of x"));
}

}  // namespace
}  // namespace mec

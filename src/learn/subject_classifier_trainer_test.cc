#include "learn/subject_classifier_trainer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "context/learned_complexity_model.h"
#include "context/text_features.h"

namespace mec {
namespace {

// Three domains told apart by their words (with shared filler words); domain 0 is easy, 1 and 2 hard.
struct SubjectToy {
  std::vector<std::vector<uint64_t>> tokens;
  std::vector<DomainExample> examples;
  SubjectToy() {
    const char* texts[3][2] = {{"the cell membrane of a plant cell", "which cell organelle makes the protein"},
                               {"evaluate the integral of x squared", "which integral of the function is finite"},
                               {"the court held that the contract", "which contract clause did the court void"}};
    tokens.resize(60);
    for (int i = 0; i < 60; ++i) HashWordTokens(texts[i % 3][(i / 3) % 2], &tokens[i]);
    for (int i = 0; i < 60; ++i) {
      const int d = i % 3, k = i / 3;
      examples.push_back({&tokens[i], d, d == 0 ? k != 0 : k < 6});
    }
  }
};

SubjectClassifierOptions ToyOptions() {
  SubjectClassifierOptions o;
  o.hash_bits = 10;
  o.min_token_count = 1;
  o.l2 = 1e-3;
  o.value_pseudo_count = 0;
  return o;
}

TEST(SubjectClassifierTrainer, LearnsTheDomainsOfAToySet) {
  SubjectToy toy;
  SubjectClassifierReport rep;
  const DomainPrior prior = TrainSubjectClassifier(toy.examples, 3, 1.0f, ToyOptions(), &rep);
  EXPECT_EQ(rep.train_accuracy, 1.0);
  ASSERT_EQ(prior.classes().size(), 3u);
  EXPECT_NEAR(prior.classes()[0].value, std::log(0.95 / 0.05), 1e-5);
  EXPECT_NEAR(prior.classes()[1].value, std::log(0.3 / 0.7), 1e-5);
  // Unseen texts made of the domains' words land on their domain's value.
  EXPECT_NEAR(prior.ExpectedValue("a cell and its protein"), prior.classes()[0].value, 0.3);
  EXPECT_NEAR(prior.ExpectedValue("the integral of a function"), prior.classes()[1].value, 0.3);
  std::vector<uint64_t> t;
  HashWordTokens("a cell and its protein", &t);
  std::vector<double> scores;
  prior.ClassScores(t, &scores);
  EXPECT_GT(scores[0], scores[1]);
  EXPECT_GT(scores[0], scores[2]);
  // Words shared by every domain ("the", "which") carry no domain: after the median shift their
  // entries are (near) zero, so a text of them alone gets about the class mix.
  const double mix = (prior.classes()[0].value + prior.classes()[1].value + prior.classes()[2].value) / 3;
  EXPECT_NEAR(prior.ExpectedValue("which the"), mix, 0.3);
}

TEST(SubjectClassifierTrainer, IsDeterministicAndSurvivesTheModelFile) {
  SubjectToy toy;
  const DomainPrior a = TrainSubjectClassifier(toy.examples, 3, 0.5f, ToyOptions());
  const DomainPrior b = TrainSubjectClassifier(toy.examples, 3, 0.5f, ToyOptions());
  std::string sa, sb;
  a.AppendTo(&sa);
  b.AppendTo(&sb);
  EXPECT_EQ(sa, sb);
  TextFeatureOptions f;
  f.hash_bits = 10;
  std::vector<double> w(ModelFeatureSpaceSize(f), 0.0);
  w[FeatureSpaceSize(f)] = 0.7;  // weight of E[D]
  auto m = LearnedComplexityModel::FromWeights("with-classifier", f, w, 0.1, a);
  auto back = LearnedComplexityModel::Parse(m->Serialize());
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ((*back)->Serialize(), m->Serialize());
  for (std::string_view p : {"the cell nucleus", "integral of x", "the court", "nothing known", ""})
    EXPECT_EQ((*back)->WeakAsGoodProbability(p), m->WeakAsGoodProbability(p)) << p;
  EXPECT_GT(m->WeakAsGoodProbability("the cell membrane"), m->WeakAsGoodProbability("the integral of x"));
}

TEST(SubjectClassifierTrainer, KeepsAtMostMaxEntries) {
  SubjectToy toy;
  SubjectClassifierOptions o = ToyOptions();
  o.max_entries = 5;
  SubjectClassifierReport rep;
  const DomainPrior prior = TrainSubjectClassifier(toy.examples, 3, 1.0f, o, &rep);
  EXPECT_LE(rep.entries, 5u);
  std::string s;
  prior.AppendTo(&s);
  std::string_view text(s);
  auto back = DomainPrior::Parse(&text);
  ASSERT_TRUE(back.ok()) << back.status().message();
}

}  // namespace
}  // namespace mec

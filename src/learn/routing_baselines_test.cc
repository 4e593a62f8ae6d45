#include "learn/routing_baselines.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "learn/routing_eval.h"

namespace mec {
namespace {

LabelledItem Item(const std::string& subject, bool weak, bool strong, int chars = 100) {
  LabelledItem it;
  it.item_id = subject + "/" + std::to_string(weak) + std::to_string(strong);
  it.benchmark = "mmlu";
  it.subject = subject;
  it.prompt_chars = chars;
  it.weak_correct = weak;
  it.strong_correct = strong;
  return it;
}

TEST(RoutingBaselines, SubjectGainRanksSubjectsByWhatTheStrongModelAdds) {
  // "hard": the strong model adds 2 of 4; "wrong": both models fail (the label calls that "weak as
  // good", the gain calls it a tie); "easy": both right.
  std::vector<LabelledItem> train = {Item("hard", false, true), Item("hard", false, true), Item("hard", true, true),
                                     Item("hard", true, true),  Item("wrong", false, false), Item("wrong", false, false),
                                     Item("easy", true, true),  Item("easy", true, true)};
  std::vector<LabelledItem> test = {Item("hard", true, true), Item("wrong", true, true), Item("easy", true, true),
                                    Item("unseen", true, true)};
  const std::vector<double> s = BaselineScores(Baseline::kSubjectGain, train, test);
  ASSERT_EQ(s.size(), 4u);
  // Sums of (1 - strong + weak)/2: hard 0 + 0 + 0.5 + 0.5, wrong 0.5 + 0.5, easy 0.5 + 0.5; mean of all
  // 3 / 8. Each subject's sum plus 2 pseudo-items at that mean, over its count plus 2.
  EXPECT_DOUBLE_EQ(s[0], (1.0 + 2 * 0.375) / 6);
  EXPECT_DOUBLE_EQ(s[1], (1.0 + 2 * 0.375) / 4);
  EXPECT_DOUBLE_EQ(s[1], s[2]);
  EXPECT_DOUBLE_EQ(s[3], 0.375);  // an unseen subject gets the benchmark's mean
  EXPECT_LT(s[0], s[3]);
  // Without training items it is a constant (random routing).
  const std::vector<double> none = BaselineScores(Baseline::kSubjectGain, {}, test);
  EXPECT_EQ(none, std::vector<double>(4, 0.5));
}

TEST(RoutingBaselines, SubjectOracleIsTheBestSubjectOnlyOrder) {
  // Three subjects of 4 items; the strong model adds 3, 1 and 0 items. The oracle reads these labels.
  std::vector<LabelledItem> items;
  for (int i = 0; i < 4; ++i) items.push_back(Item("a", i == 3, true));
  for (int i = 0; i < 4; ++i) items.push_back(Item("b", i != 0, true));
  for (int i = 0; i < 4; ++i) items.push_back(Item("c", true, true));
  const std::vector<double> oracle = SubjectOracleScores(items);
  EXPECT_LT(oracle[0], oracle[4]);
  EXPECT_LT(oracle[4], oracle[8]);
  auto saved = [&](const std::vector<double>& score) {
    std::vector<RoutedItem> r;
    for (size_t i = 0; i < items.size(); ++i) r.push_back({score[i], items[i].weak_correct, items[i].strong_correct});
    return EvaluateRouting(r, 0.95).calls_saved;
  };
  // Every other order of the three subjects saves no more.
  const double best = saved(oracle);
  const double rank[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
  for (const auto& p : rank) {
    std::vector<double> score;
    for (size_t i = 0; i < items.size(); ++i) score.push_back(p[i / 4]);
    EXPECT_LE(saved(score), best + 1e-12);
  }
  // 95% of 12 = 11.4 correct from 8 needs 3.4 gains: subject a's 4 items (3 gains) and 1.6 of b's 4 (1 gain
  // in 4): 4 + 2 (rounded up: 1.6 items) -> 6 of 12 routed, saved 50%.
  EXPECT_DOUBLE_EQ(best, 0.5);
}

}  // namespace
}  // namespace mec

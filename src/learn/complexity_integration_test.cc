// Trains the complexity model on a small slice of the real labels and evaluates it on another
// slice (disjoint item ids). Skips when the data is absent: set MECROUTER_DATA or put it at
// ../shared/data beside the source tree.

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "core/rng.h"
#include "learn/complexity_trainer.h"
#include "learn/logistic_trainer.h"
#include "learn/router_eval_data.h"
#include "learn/routing_baselines.h"
#include "learn/routing_eval.h"

namespace mec {
namespace {

std::string DataDir() {
  if (const char* d = std::getenv("MECROUTER_DATA")) return d;
  return std::string(MEC_SOURCE_DIR) + "/../shared/data";
}

// The two router_eval files every test here reads.
struct RouterEvalFiles {
  std::string dir = DataDir() + "/router_eval";
  std::string labels_csv = dir + "/routellm_mmlu_gsm8k_correctness.csv";
  std::string prompts_jsonl = dir + "/routellm_prompts.jsonl";
  bool present() const { return std::filesystem::exists(labels_csv) && std::filesystem::exists(prompts_jsonl); }
};

TEST(ComplexityIntegration, TrainsOnOneSliceAndBeatsRandomOnAnother) {
  const RouterEvalFiles files;
  if (!files.present()) GTEST_SKIP() << "router_eval data not found under " << files.dir << " (set MECROUTER_DATA)";
  auto labels = ReadCorrectnessCsv(files.labels_csv);
  ASSERT_TRUE(labels.ok()) << labels.status().message();
  auto prompts = ReadPromptsJsonl(files.prompts_jsonl);
  ASSERT_TRUE(prompts.ok()) << prompts.status().message();
  ASSERT_EQ(labels->size(), 15361u);
  ASSERT_EQ(prompts->size(), 15361u);

  // Disjoint slices by a hash of the id: ~25% to train, ~12% to test (kept small for ASan).
  std::vector<std::string> train_ids, test_ids;
  for (const auto& it : *labels) {
    const uint64_t h = Fnv1a64(it.item_id, 0x1e57) % 100;
    if (h < 25) train_ids.push_back(it.item_id);
    else if (h >= 88) test_ids.push_back(it.item_id);
  }
  JoinStats js;
  auto train = JoinLabelledPrompts(*labels, *prompts, train_ids, &js);
  auto test = JoinLabelledPrompts(*labels, *prompts, test_ids);
  ASSERT_TRUE(train.ok() && test.ok());
  EXPECT_EQ(js.requested - js.dropped_contaminated, train->size());

  ComplexityTrainOptions o;
  o.features.hash_bits = 16;
  o.l2_grid = {1e-2};
  o.max_iterations = 60;
  ComplexityTrainReport rep;
  auto model = TrainComplexityModel(*train, o, &rep);
  ASSERT_TRUE(model.ok()) << model.status().message();
  EXPECT_EQ(rep.examples, train->size());

  // Round trip through the file format keeps every prediction.
  auto reparsed = LearnedComplexityModel::Parse((*model)->Serialize());
  ASSERT_TRUE(reparsed.ok()) << reparsed.status().message();

  std::vector<RoutedItem> mmlu;
  std::vector<LabelledItem> mmlu_items, train_items;
  for (const auto& t : *test) {
    const double p = (*model)->WeakAsGoodProbability(t.prompt);
    ASSERT_EQ(p, (*reparsed)->WeakAsGoodProbability(t.prompt));
    ASSERT_GE(p, 0.0);
    ASSERT_LE(p, 1.0);
    if (t.item.benchmark != "mmlu") continue;
    mmlu.push_back({p, t.item.weak_correct, t.item.strong_correct});
    mmlu_items.push_back(t.item);
  }
  for (const auto& t : *train) train_items.push_back(t.item);
  ASSERT_GT(mmlu.size(), 1000u);
  const RoutingMetrics m = EvaluateRouting(mmlu);
  // Random routing has AUC 0.5 and APGR 0.5 in expectation; the model must do clearly better.
  EXPECT_GT(m.auc, 0.58);
  EXPECT_GT(m.apgr, 0.55);
  const std::vector<double> random = BaselineScores(Baseline::kRandom, train_items, mmlu_items);
  std::vector<RoutedItem> r = mmlu;
  for (size_t i = 0; i < r.size(); ++i) r[i].score = random[i];
  EXPECT_GT(m.calls_saved, EvaluateRouting(r).calls_saved + 0.05);
  // The fitted length baseline is a real router too (longer MMLU prompts are harder).
  const std::vector<double> length = BaselineScores(Baseline::kLength, train_items, mmlu_items);
  for (size_t i = 0; i < r.size(); ++i) r[i].score = length[i];
  EXPECT_GT(EvaluateRouting(r).auc, 0.5);
  // The subject gain router knows the subject only; the subject oracle reads these items' own labels
  // per subject, so its curve is above every subject-only order's, at every point.
  const std::vector<double> gain = BaselineScores(Baseline::kSubjectGain, train_items, mmlu_items);
  const std::vector<double> oracle = SubjectOracleScores(mmlu_items);
  std::vector<std::string> subjects;
  for (size_t i = 0; i < r.size(); ++i) {
    r[i].score = gain[i];
    subjects.push_back(mmlu_items[i].subject);
  }
  const RoutingMetrics by_subject = EvaluateRouting(r);
  EXPECT_GT(by_subject.apgr, 0.55);  // the subject alone is a strong signal on MMLU
  EXPECT_DOUBLE_EQ(WithinGroupAuc(r, subjects), 0.5);  // constant inside each subject
  for (size_t i = 0; i < r.size(); ++i) r[i].score = oracle[i];
  const RoutingMetrics ceiling = EvaluateRouting(r);
  EXPECT_GE(ceiling.calls_saved, by_subject.calls_saved);
  EXPECT_GE(ceiling.apgr, by_subject.apgr);
}

// The opt-in second stage (linear re-weighting + gradient-boosted trees on out-of-fold inputs):
// trained on a small slice, it reports every candidate, picks one, and round-trips.
TEST(ComplexityIntegration, SecondStageTrainsAndRoundTrips) {
  const RouterEvalFiles files;
  if (!files.present()) GTEST_SKIP() << "router_eval data not found under " << files.dir << " (set MECROUTER_DATA)";
  auto labels = ReadCorrectnessCsv(files.labels_csv);
  auto prompts = ReadPromptsJsonl(files.prompts_jsonl);
  ASSERT_TRUE(labels.ok() && prompts.ok());
  std::vector<std::string> train_ids, test_ids;
  for (const auto& it : *labels) {
    const uint64_t h = Fnv1a64(it.item_id, 0x2e57) % 100;
    if (h < 15) train_ids.push_back(it.item_id);
    else if (h >= 92) test_ids.push_back(it.item_id);
  }
  auto train = JoinLabelledPrompts(*labels, *prompts, train_ids);
  auto test = JoinLabelledPrompts(*labels, *prompts, test_ids);
  ASSERT_TRUE(train.ok() && test.ok());
  ComplexityTrainOptions o;
  o.features.hash_bits = 14;
  o.l2_grid = {1e-2};
  o.max_iterations = 40;
  o.temperature_grid = {0.1};
  o.target_grid = {ComplexityTarget::kLabel, ComplexityTarget::kGain};
  o.cv_metric = CvMetric::kApgr;
  o.stack.enabled = true;
  o.stack.targets = {ComplexityTarget::kLabel, ComplexityTarget::kGain};
  o.stack.depths = {2};
  o.stack.tree_counts = {0, 20};
  o.stack.domain_gain = true;
  ComplexityTrainReport rep;
  auto model = TrainComplexityModel(*train, o, &rep);
  ASSERT_TRUE(model.ok()) << model.status().message();
  // Multiple choice: none + 2 targets x 1 depth x 2 tree counts; free form (too few rows on this
  // slice for trees): none alone.
  ASSERT_EQ(rep.stack_cv.size(), 6u);
  EXPECT_TRUE(rep.stack_cv[0].none);
  ASSERT_EQ(rep.cv.size(), 2u);  // one point per target
  const bool gain = rep.chosen_target == ComplexityTarget::kGain;
  for (int t = 0; t < 2; ++t) {
    const int c = rep.chosen_stack[t];
    ASSERT_GE(c, 0);
    EXPECT_EQ(rep.stack_cv[c].type, t);
    // A regression fitted to the gain target always gets a stage (at least its calibration).
    EXPECT_EQ((*model)->stacker().stages[t].enabled, gain || !rep.stack_cv[c].none);
  }
  for (const auto& c : rep.stack_cv) EXPECT_GT(c.mean_apgr, 0.4);
  if ((*model)->stacker().enabled()) {
    EXPECT_EQ((*model)->stacker().class_gain.size(), (*model)->domain().classes().size());
  }
  auto reparsed = LearnedComplexityModel::Parse((*model)->Serialize());
  ASSERT_TRUE(reparsed.ok()) << reparsed.status().message();
  std::vector<RoutedItem> mmlu;
  for (const auto& t : *test) {
    const double p = (*model)->WeakAsGoodProbability(t.prompt);
    ASSERT_EQ(p, (*reparsed)->WeakAsGoodProbability(t.prompt));
    ASSERT_GE(p, 0.0);
    ASSERT_LE(p, 1.0);
    if (t.item.benchmark == "mmlu") mmlu.push_back({p, t.item.weak_correct, t.item.strong_correct});
  }
  EXPECT_GT(EvaluateRouting(mmlu).auc, 0.55);
}

// --stack-average-folds: the shipped regression is the mean of the cross-validation fold models
// that produced the stage's out-of-fold inputs (no fit on all rows), i.e. its logit is the mean of
// their logits.
TEST(ComplexityIntegration, AverageOfFoldModelsIsTheShippedRegression) {
  const RouterEvalFiles files;
  if (!files.present()) GTEST_SKIP() << "router_eval data not found under " << files.dir << " (set MECROUTER_DATA)";
  auto labels = ReadCorrectnessCsv(files.labels_csv);
  auto prompts = ReadPromptsJsonl(files.prompts_jsonl);
  ASSERT_TRUE(labels.ok() && prompts.ok());
  std::vector<std::string> train_ids;
  for (const auto& it : *labels)
    if (Fnv1a64(it.item_id, 0x3e57) % 100 < 10) train_ids.push_back(it.item_id);
  auto train = JoinLabelledPrompts(*labels, *prompts, train_ids);
  ASSERT_TRUE(train.ok());
  ComplexityTrainOptions o;
  o.features.hash_bits = 12;
  o.l2_grid = {1e-2};
  o.max_iterations = 30;
  o.domain_prior = false;
  o.stack.enabled = true;
  o.stack.depths = {2};
  o.stack.tree_counts = {0};
  o.stack.average_fold_models = true;
  ComplexityTrainReport rep;
  auto model = TrainComplexityModel(*train, o, &rep);
  ASSERT_TRUE(model.ok()) << model.status().message();
  EXPECT_EQ(rep.iterations, 0);  // no fit on all rows

  SparseDataset data;
  BuildComplexityDataset(*train, o.features, &data);
  LogisticOptions lo;
  lo.l2 = 1e-2;
  lo.max_iterations = o.max_iterations;
  lo.standardize_from = HashedSpaceSize(o.features);
  lo.l2_column_factor.assign(data.dim, 1.0);
  std::vector<LogisticFit> fits;
  for (int f = 0; f < o.cv_folds; ++f) {
    std::vector<size_t> tr;
    for (size_t i = 0; i < train->size(); ++i)
      if (static_cast<int>(Fnv1a64((*train)[i].item.item_id, 0x5eedf01dull) % o.cv_folds) != f) tr.push_back(i);
    auto fit = TrainLogistic(SubsetRows(data, tr), lo);
    ASSERT_TRUE(fit.ok());
    fits.push_back(std::move(fit).value());
  }
  for (size_t i = 0; i < train->size(); i += 37) {
    double mean = 0;
    for (const auto& fit : fits) mean += fit.Logit(data.rows[i]) / static_cast<double>(fits.size());
    EXPECT_NEAR((*model)->LinearLogit(data.rows[i]), mean, 1e-2) << i;  // float, quantised weights
  }
}

}  // namespace
}  // namespace mec

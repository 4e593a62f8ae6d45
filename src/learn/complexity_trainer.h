#pragma once
// Trains the learned complexity model (context/learned_complexity_model.h) on labelled prompts:
// text features -> L2 logistic regression, with the L2 strength chosen by k-fold
// cross-validation *inside* the training items (folds by a hash of the item id), never on test ids.

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "context/learned_complexity_model.h"
#include "context/text_features.h"
#include "core/status.h"
#include "learn/domain_prior_trainer.h"
#include "learn/gbdt_trainer.h"
#include "learn/router_eval_data.h"
#include "learn/subject_classifier_trainer.h"
#include "learn/routing_eval.h"

namespace mec {

// The optional second stage (context/complexity_stacker.h): a linear re-weighting of the
// regression's logit and E[D], plus gradient-boosted trees over them and the dense text features,
// fitted on *out-of-fold* inputs (the regression's cross-validation logits at the chosen
// hyperparameters, the domain prior's out-of-fold E[D]). Candidates (no second stage; each target
// x depth x tree count, 0 trees being the linear part alone) are compared by cross-validation
// inside the training ids on the mean per-benchmark APGR (real labels), folds as above, separately
// for each prompt type (multiple choice, free form): each type gets its own stage or none.
// What a regression is fitted to. Evaluation always uses the real label (and correctness).
enum class ComplexityTarget {
  kLabel,  // the label "weak as good"
  kGain,   // (1 - strong_correct + weak_correct) / 2: 1 weak right and strong wrong, 1/2 a tie, 0 the
           // strong model needed; its expectation ranks prompts by the expected accuracy gain of
           // the strong model. A calibration (the second stage's) maps the result back to
           // P(weak as good).
};

// How cross-validation compares the regression's candidates: mean per-benchmark AUC against the
// label, or mean per-benchmark APGR (accuracy-based; needed to compare targets fairly).
enum class CvMetric { kAuc, kApgr };

struct StackOptions {
  bool enabled = false;
  std::vector<ComplexityTarget> targets = {ComplexityTarget::kLabel};
  std::vector<int> depths = {3};
  std::vector<int> tree_counts = {0, 50, 100, 200};
  // Also give the stage E[G], the domain posterior's expectation of the domains' mean accuracy
  // gain (weak_correct - strong_correct; out of fold for the training rows, like E[D]).
  bool domain_gain = false;
  // The stacking mismatch: the stage is trained on out-of-fold logits of regressions fitted on
  // (k-1)/k of the rows, but would read the full-data regression's logit at inference.
  // first_stage_folds > 0: the out-of-fold logits come from that many folds (refitted at the
  // chosen hyperparameters; 0: the cv_folds fits of the hyperparameter search are reused).
  // average_fold_models: the shipped regression is the average of those fold models' weights
  // (and biases) instead of a fit on all rows; for a linear model that is exactly the mean of
  // their logits, so the stage reads at inference what it was trained on, at no extra cost.
  int first_stage_folds = 0;
  bool average_fold_models = false;
  GbdtOptions gbdt;  // trees and depth are set from the grids
};

struct ComplexityTrainOptions {
  std::string name = "logreg-v1";
  TextFeatureOptions features;
  // Candidate L2 strengths; with one candidate (or cv_folds < 2) no cross-validation is run.
  std::vector<double> l2_grid = {3e-4, 1e-3, 3e-3, 1e-2};
  int cv_folds = 3;
  int max_iterations = 200;
  // Keep only the largest weights (0: all), to bound the model file's size.
  size_t max_weights = 0;
  // Training-target smoothing towards the subject: y' = (1 - s) y + s * (label rate of the item's
  // subject among the *other* training items). The subject is used only to denoise the training
  // target; it is never a feature, so inference sees the text alone. Candidates are chosen by
  // cross-validation together with l2 (the held-out score always uses the real labels).
  std::vector<double> subject_smoothing_grid = {0.0};
  // Targets of the regression (candidates, chosen by cross-validation with cv_metric).
  std::vector<ComplexityTarget> target_grid = {ComplexityTarget::kLabel};
  CvMetric cv_metric = CvMetric::kAuc;
  // L2 multipliers: for the type-salted hashed block (candidates, chosen by cross-validation:
  // a large factor leaves free-form prompts to the dense features), and for the dense and
  // domain features.
  std::vector<double> conjoined_l2_factor_grid = {1.0};
  double dense_l2_factor = 1.0;
  // The domain prior (context/domain_prior.h): its E[D] enters the regression as a feature. For
  // the training rows E[D] is computed out of fold (domain_folds folds by item-id hash), so the
  // regression sees it as it will be on unseen prompts; the temperature is the candidate whose
  // out-of-fold E[D] ranks the training labels best (AUC within benchmark, weighted by items).
  bool domain_prior = true;
  DomainPriorOptions domain;
  // The domain classifier behind the prior: naive Bayes (TrainDomainPrior) or, when true, a
  // discriminative multinomial logistic regression (TrainSubjectClassifier); temperatures are then
  // relative to its fitted probabilities.
  bool discriminative_domain = false;
  SubjectClassifierOptions subject;
  std::vector<double> temperature_grid = {0.03, 0.1, 0.3, 1.0};
  int domain_folds = 5;
  StackOptions stack;
};

struct StackCandidate {
  int type = 0;       // the prompt type (PromptType) whose stage this is
  bool none = false;  // no second stage
  ComplexityTarget target = ComplexityTarget::kLabel;
  int depth = 0;
  int trees = 0;
  double mean_apgr = 0;  // mean over benchmarks, folds pooled
  double mean_auc = 0;
  std::vector<std::pair<std::string, RoutingMetrics>> benchmarks;
};

struct CrossValidationPoint {
  double l2;
  double subject_smoothing;
  double conjoined_l2_factor;
  ComplexityTarget target;
  double mean_auc;       // mean over benchmarks of the held-out AUC (folds pooled)
  double mean_apgr;      // the same for APGR
  double mean_log_loss;  // over all held-out rows
  // Held-out routing metrics per benchmark (folds pooled), for the record.
  std::vector<std::pair<std::string, RoutingMetrics>> benchmarks;
};

struct ComplexityTrainReport {
  size_t examples = 0;
  double chosen_l2 = 0;
  double chosen_subject_smoothing = 0;
  double chosen_conjoined_l2_factor = 1;
  ComplexityTarget chosen_target = ComplexityTarget::kLabel;
  std::vector<CrossValidationPoint> cv;
  int iterations = 0;
  bool converged = false;
  size_t non_zero_weights = 0;
  double chosen_temperature = 0;
  std::vector<std::pair<double, double>> temperature_auc;  // (temperature, out-of-fold AUC of E[D])
  double domain_oof_accuracy = 0;  // share of training items whose out-of-fold top domain is their own
  std::vector<StackCandidate> stack_cv;
  // Per prompt type, the index into stack_cv of the chosen candidate (-1: none considered).
  std::array<int, 2> chosen_stack = {-1, -1};
};

// Featurizes the prompts (one row per item, label = WeakAsGood()); text features only, the
// domain-feature slots are left empty.
void BuildComplexityDataset(const std::vector<LabelledPrompt>& items, const TextFeatureOptions& features,
                            struct SparseDataset* out);

Result<std::unique_ptr<LearnedComplexityModel>> TrainComplexityModel(const std::vector<LabelledPrompt>& items,
                                                                      const ComplexityTrainOptions& options,
                                                                      ComplexityTrainReport* report = nullptr);

}  // namespace mec

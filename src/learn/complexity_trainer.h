#pragma once
// Trains the learned complexity model (context/learned_complexity_model.h) on labelled prompts:
// text features -> L2 logistic regression, with the L2 strength chosen by k-fold
// cross-validation *inside* the training items (folds by a hash of the item id), never on test ids.

#include <memory>
#include <string>
#include <vector>

#include "context/learned_complexity_model.h"
#include "context/text_features.h"
#include "core/status.h"
#include "learn/domain_prior_trainer.h"
#include "learn/router_eval_data.h"
#include "learn/subject_classifier_trainer.h"
#include "learn/routing_eval.h"

namespace mec {

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
};

struct CrossValidationPoint {
  double l2;
  double subject_smoothing;
  double conjoined_l2_factor;
  double mean_auc;       // mean over benchmarks of the held-out AUC (folds pooled)
  double mean_log_loss;  // over all held-out rows
  // Held-out routing metrics per benchmark (folds pooled), for the record.
  std::vector<std::pair<std::string, RoutingMetrics>> benchmarks;
};

struct ComplexityTrainReport {
  size_t examples = 0;
  double chosen_l2 = 0;
  double chosen_subject_smoothing = 0;
  double chosen_conjoined_l2_factor = 1;
  std::vector<CrossValidationPoint> cv;
  int iterations = 0;
  bool converged = false;
  size_t non_zero_weights = 0;
  double chosen_temperature = 0;
  std::vector<std::pair<double, double>> temperature_auc;  // (temperature, out-of-fold AUC of E[D])
  double domain_oof_accuracy = 0;  // share of training items whose out-of-fold top domain is their own
};

// Featurizes the prompts (one row per item, label = WeakAsGood()); text features only, the
// domain-feature slots are left empty.
void BuildComplexityDataset(const std::vector<LabelledPrompt>& items, const TextFeatureOptions& features,
                            struct SparseDataset* out);

Result<std::unique_ptr<LearnedComplexityModel>> TrainComplexityModel(const std::vector<LabelledPrompt>& items,
                                                                      const ComplexityTrainOptions& options,
                                                                      ComplexityTrainReport* report = nullptr);

}  // namespace mec

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
#include "learn/router_eval_data.h"
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
};

struct CrossValidationPoint {
  double l2;
  double mean_auc;       // mean over benchmarks of the held-out AUC (folds pooled)
  double mean_log_loss;  // over all held-out rows
  // Held-out routing metrics per benchmark (folds pooled), for the record.
  std::vector<std::pair<std::string, RoutingMetrics>> benchmarks;
};

struct ComplexityTrainReport {
  size_t examples = 0;
  double chosen_l2 = 0;
  std::vector<CrossValidationPoint> cv;
  int iterations = 0;
  bool converged = false;
  size_t non_zero_weights = 0;
};

// Featurizes the prompts (one row per item, label = WeakAsGood()).
void BuildComplexityDataset(const std::vector<LabelledPrompt>& items, const TextFeatureOptions& features,
                            struct SparseDataset* out);

Result<std::unique_ptr<LearnedComplexityModel>> TrainComplexityModel(const std::vector<LabelledPrompt>& items,
                                                                      const ComplexityTrainOptions& options,
                                                                      ComplexityTrainReport* report = nullptr);

}  // namespace mec

#pragma once
// L2-regularised logistic regression on sparse rows, fitted by L-BFGS (full batch,
// deterministic: the same data gives the same weights bit for bit).
//
// Objective: (1/sum c_i) * sum_i c_i * logloss(y_i, o_i + b + w.x_i) + (l2/2) * sum_j f_j w_j^2, bias
// unpenalised, f_j = l2_column_factor (default 1);
// c_i are optional example weights, y_i in [0, 1], o_i optional fixed offsets (another model's
// logit: the fit is then a correction of that model, shrunk towards it by l2).
// Columns from `standardize_from` on are treated as dense numeric features: they are scaled to unit
// standard deviation for the fit (so that one l2 suits them all) and the returned weights are
// mapped back to the raw scale.

#include <cstddef>
#include <limits>
#include <vector>

#include "context/text_features.h"
#include "core/status.h"

namespace mec {

struct SparseDataset {
  size_t dim = 0;                    // every index is < dim
  std::vector<SparseVector> rows;
  std::vector<double> labels;        // y_i in [0, 1], one per row
  std::vector<double> weights;       // c_i > 0, one per row; empty means all 1
  std::vector<double> offsets;       // o_i added to row i's logit (a fixed prior); empty means all 0
};

struct LogisticOptions {
  double l2 = 1e-3;
  int max_iterations = 300;
  double tolerance = 1e-6;           // stop when |grad| <= tolerance * max(1, |theta|)
  int memory = 10;                   // L-BFGS history
  size_t standardize_from = std::numeric_limits<size_t>::max();
  // Per-column multipliers of l2 (empty: all 1; else one per column), applied on the
  // standardised scale.
  std::vector<double> l2_column_factor;
};

struct LogisticFit {
  std::vector<double> weights;       // dim entries, raw feature scale
  double bias = 0.0;
  int iterations = 0;
  double objective = 0.0;
  bool converged = false;

  double Logit(const SparseVector& x) const;
  double Probability(const SparseVector& x) const;
};

// REQUIRES: rows.size() == labels.size() > 0; weights empty or of the same size.
Result<LogisticFit> TrainLogistic(const SparseDataset& data, const LogisticOptions& options);

// Convenience for row subsets (cross-validation): the dataset restricted to `rows` (copies).
SparseDataset SubsetRows(const SparseDataset& data, const std::vector<size_t>& rows);

double Sigmoid(double z);
// Log loss of a probability against a label in [0, 1], clamped away from log(0).
double LogLoss(double p, double y);

}  // namespace mec

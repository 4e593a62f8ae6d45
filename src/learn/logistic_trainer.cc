#include "learn/logistic_trainer.h"

#include <algorithm>
#include <cmath>

#include "learn/lbfgs.h"

namespace mec {
namespace {

// Evaluates objective and gradient at theta = [w..., b] for the column-scaled problem.
class Objective {
 public:
  Objective(const SparseDataset& d, const std::vector<double>& scale, double l2, const std::vector<double>& factor)
      : d_(d), scale_(scale), l2_(l2), factor_(factor) {
    total_weight_ = 0;
    for (size_t i = 0; i < d.rows.size(); ++i) total_weight_ += d.weights.empty() ? 1.0 : d.weights[i];
  }

  double Evaluate(const std::vector<double>& theta, std::vector<double>* grad) {
    const size_t dim = d_.dim;
    const double b = theta[dim];
    std::fill(grad->begin(), grad->end(), 0.0);
    double loss = 0;
    double gb = 0;
    for (size_t i = 0; i < d_.rows.size(); ++i) {
      const SparseVector& x = d_.rows[i];
      double z = b + (d_.offsets.empty() ? 0.0 : d_.offsets[i]);
      for (size_t k = 0; k < x.size(); ++k) z += theta[x.index[k]] * x.value[k] * scale_[x.index[k]];
      const double c = (d_.weights.empty() ? 1.0 : d_.weights[i]) / total_weight_;
      const double y = d_.labels[i];
      // log(1 + e^z) - y z, computed stably
      const double softplus = z > 0 ? z + std::log1p(std::exp(-z)) : std::log1p(std::exp(z));
      loss += c * (softplus - y * z);
      const double r = c * (Sigmoid(z) - y);
      gb += r;
      for (size_t k = 0; k < x.size(); ++k) (*grad)[x.index[k]] += r * x.value[k] * scale_[x.index[k]];
    }
    double reg = 0;
    for (size_t j = 0; j < dim; ++j) {
      const double f = factor_.empty() ? 1.0 : factor_[j];
      reg += f * theta[j] * theta[j];
      (*grad)[j] += l2_ * f * theta[j];
    }
    (*grad)[dim] = gb;
    return loss + 0.5 * l2_ * reg;
  }

 private:
  const SparseDataset& d_;
  const std::vector<double>& scale_;
  double l2_;
  const std::vector<double>& factor_;
  double total_weight_;
};

}  // namespace

double Sigmoid(double z) { return z >= 0 ? 1.0 / (1.0 + std::exp(-z)) : std::exp(z) / (1.0 + std::exp(z)); }

double LogLoss(double p, double y) {
  p = std::clamp(p, 1e-12, 1.0 - 1e-12);
  return -(y * std::log(p) + (1 - y) * std::log(1 - p));
}

double LogisticFit::Logit(const SparseVector& x) const {
  double z = bias;
  for (size_t k = 0; k < x.size(); ++k) z += weights[x.index[k]] * x.value[k];
  return z;
}

double LogisticFit::Probability(const SparseVector& x) const { return Sigmoid(Logit(x)); }

SparseDataset SubsetRows(const SparseDataset& data, const std::vector<size_t>& rows) {
  SparseDataset s;
  s.dim = data.dim;
  for (size_t r : rows) {
    s.rows.push_back(data.rows[r]);
    s.labels.push_back(data.labels[r]);
    if (!data.weights.empty()) s.weights.push_back(data.weights[r]);
    if (!data.offsets.empty()) s.offsets.push_back(data.offsets[r]);
  }
  return s;
}

Result<LogisticFit> TrainLogistic(const SparseDataset& data, const LogisticOptions& options) {
  const size_t n = data.rows.size();
  if (n == 0 || data.labels.size() != n || (!data.weights.empty() && data.weights.size() != n) ||
      (!data.offsets.empty() && data.offsets.size() != n)) {
    return Status::InvalidArgument("TrainLogistic: rows, labels, weights and offsets disagree in size (or no rows)");
  }
  if (options.l2 < 0 || options.max_iterations < 0 || options.memory < 1) {
    return Status::InvalidArgument("TrainLogistic: bad options");
  }
  const size_t dim = data.dim;
  for (const auto& x : data.rows) {
    for (uint32_t i : x.index)
      if (i >= dim) return Status::InvalidArgument("TrainLogistic: feature index out of range");
  }

  // Column scales: 1 for hashed columns; 1/std for dense columns (std over all rows, absent = 0).
  std::vector<double> scale(dim, 1.0);
  if (options.standardize_from < dim) {
    const size_t from = options.standardize_from;
    std::vector<double> sum(dim - from, 0.0), sum2(dim - from, 0.0);
    for (const auto& x : data.rows) {
      for (size_t k = 0; k < x.size(); ++k) {
        if (x.index[k] < from) continue;
        sum[x.index[k] - from] += x.value[k];
        sum2[x.index[k] - from] += static_cast<double>(x.value[k]) * x.value[k];
      }
    }
    for (size_t j = from; j < dim; ++j) {
      const double mean = sum[j - from] / n;
      const double var = sum2[j - from] / n - mean * mean;
      scale[j] = var > 1e-12 ? 1.0 / std::sqrt(var) : 1.0;
    }
  }

  if (!options.l2_column_factor.empty() && options.l2_column_factor.size() != dim)
    return Status::InvalidArgument("TrainLogistic: l2_column_factor must have one entry per column");
  Objective objective(data, scale, options.l2, options.l2_column_factor);
  std::vector<double> theta(dim + 1, 0.0);
  // Start the bias at the weighted prior log-odds (0 with offsets: the offsets are the prior).
  if (data.offsets.empty()) {
    double pos = 0, tot = 0;
    for (size_t i = 0; i < n; ++i) {
      const double c = data.weights.empty() ? 1.0 : data.weights[i];
      pos += c * data.labels[i];
      tot += c;
    }
    const double p = std::clamp(pos / tot, 1e-6, 1 - 1e-6);
    theta[dim] = std::log(p / (1 - p));
  }
  LbfgsOptions lo;
  lo.max_iterations = options.max_iterations;
  lo.memory = options.memory;
  lo.tolerance = options.tolerance;
  lo.relative_decrease = 1e-10;
  const LbfgsResult r = MinimizeLbfgs([&objective](const std::vector<double>& t, std::vector<double>* g) { return objective.Evaluate(t, g); },
                                      theta, lo);
  LogisticFit fit;
  fit.converged = r.converged;
  fit.weights.assign(dim, 0.0);
  for (size_t j = 0; j < dim; ++j) fit.weights[j] = theta[j] * scale[j];
  fit.bias = theta[dim];
  fit.iterations = r.iterations;
  fit.objective = r.objective;
  return fit;
}

}  // namespace mec

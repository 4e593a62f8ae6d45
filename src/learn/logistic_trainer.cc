#include "learn/logistic_trainer.h"

#include <algorithm>
#include <cmath>
#include <deque>

namespace mec {
namespace {

double Dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

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
      double z = b;
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
  }
  return s;
}

Result<LogisticFit> TrainLogistic(const SparseDataset& data, const LogisticOptions& options) {
  const size_t n = data.rows.size();
  if (n == 0 || data.labels.size() != n || (!data.weights.empty() && data.weights.size() != n)) {
    return Status::InvalidArgument("TrainLogistic: rows, labels and weights disagree in size (or no rows)");
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
  std::vector<double> theta(dim + 1, 0.0), grad(dim + 1), new_theta(dim + 1), new_grad(dim + 1), dir(dim + 1);
  // Start the bias at the weighted prior log-odds.
  {
    double pos = 0, tot = 0;
    for (size_t i = 0; i < n; ++i) {
      const double c = data.weights.empty() ? 1.0 : data.weights[i];
      pos += c * data.labels[i];
      tot += c;
    }
    const double p = std::clamp(pos / tot, 1e-6, 1 - 1e-6);
    theta[dim] = std::log(p / (1 - p));
  }
  double f = objective.Evaluate(theta, &grad);
  std::deque<std::vector<double>> s_hist, y_hist;
  std::deque<double> rho_hist;
  LogisticFit fit;
  int it = 0;
  for (; it < options.max_iterations; ++it) {
    const double gnorm = std::sqrt(Dot(grad, grad));
    if (gnorm <= options.tolerance * std::max(1.0, std::sqrt(Dot(theta, theta)))) {
      fit.converged = true;
      break;
    }
    // Two-loop recursion: dir = -H grad.
    dir = grad;
    std::vector<double> alpha(s_hist.size());
    for (size_t k = s_hist.size(); k-- > 0;) {
      alpha[k] = rho_hist[k] * Dot(s_hist[k], dir);
      for (size_t j = 0; j <= dim; ++j) dir[j] -= alpha[k] * y_hist[k][j];
    }
    double gamma = 1.0 / std::max(gnorm, 1e-12);
    if (!s_hist.empty()) gamma = Dot(s_hist.back(), y_hist.back()) / Dot(y_hist.back(), y_hist.back());
    for (double& v : dir) v *= gamma;
    for (size_t k = 0; k < s_hist.size(); ++k) {
      const double beta = rho_hist[k] * Dot(y_hist[k], dir);
      for (size_t j = 0; j <= dim; ++j) dir[j] += (alpha[k] - beta) * s_hist[k][j];
    }
    for (double& v : dir) v = -v;
    double slope = Dot(grad, dir);
    if (slope >= 0) {  // not a descent direction: restart from steepest descent
      s_hist.clear();
      y_hist.clear();
      rho_hist.clear();
      for (size_t j = 0; j <= dim; ++j) dir[j] = -grad[j] / std::max(gnorm, 1e-12);
      slope = Dot(grad, dir);
    }
    // Backtracking line search (Armijo).
    double step = 1.0, new_f = f;
    bool accepted = false;
    for (int ls = 0; ls < 40; ++ls) {
      for (size_t j = 0; j <= dim; ++j) new_theta[j] = theta[j] + step * dir[j];
      new_f = objective.Evaluate(new_theta, &new_grad);
      if (new_f <= f + 1e-4 * step * slope) {
        accepted = true;
        break;
      }
      step *= 0.5;
    }
    if (!accepted) {
      fit.converged = true;  // no further progress possible at this precision
      break;
    }
    std::vector<double> s(dim + 1), y(dim + 1);
    for (size_t j = 0; j <= dim; ++j) {
      s[j] = new_theta[j] - theta[j];
      y[j] = new_grad[j] - grad[j];
    }
    const double sy = Dot(s, y);
    if (sy > 1e-12) {
      s_hist.push_back(std::move(s));
      y_hist.push_back(std::move(y));
      rho_hist.push_back(1.0 / sy);
      if (static_cast<int>(s_hist.size()) > options.memory) {
        s_hist.pop_front();
        y_hist.pop_front();
        rho_hist.pop_front();
      }
    }
    const double rel = (f - new_f) / std::max({std::abs(f), std::abs(new_f), 1e-12});
    theta.swap(new_theta);
    grad.swap(new_grad);
    f = new_f;
    if (rel < 1e-10) {
      fit.converged = true;
      ++it;
      break;
    }
  }
  fit.weights.assign(dim, 0.0);
  for (size_t j = 0; j < dim; ++j) fit.weights[j] = theta[j] * scale[j];
  fit.bias = theta[dim];
  fit.iterations = it;
  fit.objective = f;
  return fit;
}

}  // namespace mec

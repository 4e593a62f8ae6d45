#include "learn/lbfgs.h"

#include <algorithm>
#include <cmath>
#include <deque>

namespace mec {

double Dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

LbfgsResult MinimizeLbfgs(const ObjectiveFn& objective, std::vector<double>& theta, const LbfgsOptions& options) {
  const size_t dim = theta.size();
  std::vector<double> grad(dim), new_theta(dim), new_grad(dim), dir(dim);
  double f = objective(theta, &grad);
  std::deque<std::vector<double>> s_hist, y_hist;
  std::deque<double> rho_hist;
  LbfgsResult result;
  int it = 0;
  for (; it < options.max_iterations; ++it) {
    const double gnorm = std::sqrt(Dot(grad, grad));
    if (gnorm <= options.tolerance * std::max(1.0, std::sqrt(Dot(theta, theta)))) {
      result.converged = true;
      break;
    }
    // Two-loop recursion: dir = -H grad.
    dir = grad;
    std::vector<double> alpha(s_hist.size());
    for (size_t k = s_hist.size(); k-- > 0;) {
      alpha[k] = rho_hist[k] * Dot(s_hist[k], dir);
      for (size_t j = 0; j < dim; ++j) dir[j] -= alpha[k] * y_hist[k][j];
    }
    double gamma = 1.0 / std::max(gnorm, 1e-12);
    if (!s_hist.empty()) gamma = Dot(s_hist.back(), y_hist.back()) / Dot(y_hist.back(), y_hist.back());
    for (double& v : dir) v *= gamma;
    for (size_t k = 0; k < s_hist.size(); ++k) {
      const double beta = rho_hist[k] * Dot(y_hist[k], dir);
      for (size_t j = 0; j < dim; ++j) dir[j] += (alpha[k] - beta) * s_hist[k][j];
    }
    for (double& v : dir) v = -v;
    double slope = Dot(grad, dir);
    if (slope >= 0) {  // not a descent direction: restart from steepest descent
      s_hist.clear();
      y_hist.clear();
      rho_hist.clear();
      for (size_t j = 0; j < dim; ++j) dir[j] = -grad[j] / std::max(gnorm, 1e-12);
      slope = Dot(grad, dir);
    }
    // Backtracking line search (Armijo).
    double step = 1.0, new_f = f;
    bool accepted = false;
    for (int ls = 0; ls < 40; ++ls) {
      for (size_t j = 0; j < dim; ++j) new_theta[j] = theta[j] + step * dir[j];
      new_f = objective(new_theta, &new_grad);
      if (new_f <= f + 1e-4 * step * slope) {
        accepted = true;
        break;
      }
      step *= 0.5;
    }
    if (!accepted) {
      result.converged = true;  // no further progress possible at this precision
      break;
    }
    std::vector<double> s(dim), y(dim);
    for (size_t j = 0; j < dim; ++j) {
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
    if (rel < options.relative_decrease) {
      result.converged = true;
      ++it;
      break;
    }
  }
  result.iterations = it;
  result.objective = f;
  return result;
}

}  // namespace mec

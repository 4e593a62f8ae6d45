#pragma once
// Limited-memory BFGS with a backtracking (Armijo) line search: the one minimizer the trainers
// share (logistic_trainer, subject_classifier_trainer). Deterministic; single-threaded.

#include <functional>
#include <vector>

namespace mec {

struct LbfgsOptions {
  int max_iterations = 200;
  int memory = 10;                  // (s, y) pairs kept
  double tolerance = 1e-6;          // stop (converged) when |grad| <= tolerance * max(1, |theta|)
  double relative_decrease = 1e-10; // stop (converged) when an accepted step lowers f by less, relatively
};

struct LbfgsResult {
  int iterations = 0;
  double objective = 0;
  // Stopped by a criterion above, or because no step lowered f (no progress possible at this
  // precision); false only when max_iterations ran out.
  bool converged = false;
};

// f(theta, grad) returns the objective at theta and writes its gradient into *grad (sized like
// theta). Minimizes from `theta`, which holds the result.
using ObjectiveFn = std::function<double(const std::vector<double>& theta, std::vector<double>* grad)>;
LbfgsResult MinimizeLbfgs(const ObjectiveFn& f, std::vector<double>& theta, const LbfgsOptions& options);

double Dot(const std::vector<double>& a, const std::vector<double>& b);

}  // namespace mec

#pragma once
// Expected output tokens per task class, learned online from outcomes: an exponentially weighted
// moving average that starts at a prior per class. The prior counts as `prior_weight` observations,
// so early outcomes move the estimate quickly (a running mean with the prior in it) and, once more
// than 1/alpha outcomes are in, the average forgets old outcomes at rate `alpha`.
//
// Thread-safety: every method may be called from any thread (one mutex). Memory is bounded by
// `max_classes`: outcomes of further classes are not learned (their estimate stays the prior).

#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace mec {

struct OutputTokenOptions {
  double default_prior = 256.0;  // expected output tokens of a class without a prior of its own
  double prior_weight = 5.0;     // the prior counts as this many observations; REQUIRES: > 0
  double alpha = 0.05;           // EWMA rate once warmed up; REQUIRES: 0 < alpha <= 1
  size_t max_classes = 1024;     // classes learned at most (priors set explicitly count too)
  double max_tokens = 1 << 20;   // observations are clamped to [0, max_tokens]
};

class OutputTokenLearner {
 public:
  explicit OutputTokenLearner(OutputTokenOptions options = {});

  // Sets the prior of a class (e.g. from config); resets what was learned for it.
  // REQUIRES: tokens >= 0.
  void SetPrior(std::string_view task_class, double tokens);

  // The expected output tokens of a request of this class.
  double Expected(std::string_view task_class) const;

  // One outcome: a request of this class produced `tokens` output tokens. Negative or NaN values
  // are ignored.
  void Observe(std::string_view task_class, double tokens);

  // Outcomes observed for this class so far (0 for an unknown class).
  int64_t Observations(std::string_view task_class) const;

  size_t num_classes() const;

 private:
  struct State {
    double prior = 0;
    double value = 0;
    int64_t n = 0;
  };
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  const OutputTokenOptions options_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, State, Hash, std::equal_to<>> classes_;  // guarded by mu_
};

}  // namespace mec

#include "learn/output_tokens.h"

#include <algorithm>
#include <cmath>

namespace mec {

OutputTokenLearner::OutputTokenLearner(OutputTokenOptions options) : options_(options) {}

void OutputTokenLearner::SetPrior(std::string_view task_class, double tokens) {
  if (!(tokens >= 0)) return;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = classes_.find(task_class);
  if (it == classes_.end()) {
    if (classes_.size() >= options_.max_classes) return;
    it = classes_.emplace(std::string(task_class), State{}).first;
  }
  it->second = State{tokens, tokens, 0};
}

double OutputTokenLearner::Expected(std::string_view task_class) const {
  std::lock_guard<std::mutex> lock(mu_);
  const auto it = classes_.find(task_class);
  return it == classes_.end() ? options_.default_prior : it->second.value;
}

void OutputTokenLearner::Observe(std::string_view task_class, double tokens) {
  if (!(tokens >= 0)) return;  // also NaN
  tokens = std::min(tokens, options_.max_tokens);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = classes_.find(task_class);
  if (it == classes_.end()) {
    if (classes_.size() >= options_.max_classes) return;
    it = classes_.emplace(std::string(task_class), State{options_.default_prior, options_.default_prior, 0}).first;
  }
  State& s = it->second;
  ++s.n;
  // A running mean with the prior as prior_weight observations, until that is slower than alpha.
  const double rate = std::max(options_.alpha, 1.0 / (options_.prior_weight + static_cast<double>(s.n)));
  s.value += rate * (tokens - s.value);
}

int64_t OutputTokenLearner::Observations(std::string_view task_class) const {
  std::lock_guard<std::mutex> lock(mu_);
  const auto it = classes_.find(task_class);
  return it == classes_.end() ? 0 : it->second.n;
}

size_t OutputTokenLearner::num_classes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return classes_.size();
}

}  // namespace mec

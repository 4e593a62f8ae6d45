#include "context/live_complexity_model.h"

namespace mec {

LiveComplexityModel::LiveComplexityModel(std::shared_ptr<const ComplexityModel> initial) : current_(std::move(initial)) {
  names_.emplace_back(current_->Name());
}

std::shared_ptr<const ComplexityModel> LiveComplexityModel::Current() const {
  std::lock_guard lock(mu_);
  return current_;
}

int LiveComplexityModel::Swap(std::shared_ptr<const ComplexityModel> next) {
  if (next == nullptr) return swaps();
  std::lock_guard lock(mu_);
  current_ = std::move(next);
  if (names_.back() != current_->Name()) names_.emplace_back(current_->Name());
  return ++swaps_;
}

int LiveComplexityModel::swaps() const {
  std::lock_guard lock(mu_);
  return swaps_;
}

std::string_view LiveComplexityModel::Name() const {
  std::lock_guard lock(mu_);
  return names_.back();  // deque: references stay valid as names are appended
}

}  // namespace mec

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
  ++swaps_;
  generation_.store(static_cast<uint64_t>(swaps_), std::memory_order_release);
  return swaps_;
}

void LiveComplexityModel::EnableMemo(size_t entries) { memo_ = entries > 0 ? std::make_unique<EstimateMemo>(entries) : nullptr; }

// The generation is read before the model: an estimate stored under a generation was made by
// that generation's model or a newer one (a newer one's entry is never looked up again).
ComplexityEstimate LiveComplexityModel::Estimate(std::string_view prompt) const {
  if (!memo_) return Current()->Estimate(prompt);
  const uint64_t key = EstimateMemo::Key(prompt);
  const uint64_t generation = generation_.load(std::memory_order_acquire);
  ComplexityEstimate e;
  if (memo_->Find(key, generation, &e)) return e;
  e = Current()->Estimate(prompt);
  memo_->Put(key, generation, e);
  return e;
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

#include "learn/decision_registry.h"

#include <utility>

namespace mec {

DecisionRegistry::DecisionRegistry(size_t capacity) : capacity_(capacity > 0 ? capacity : 1) {}

void DecisionRegistry::Record(std::string_view decision_id, DecisionRecord record) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = records_.find(decision_id); it != records_.end()) {
    it->second = std::move(record);
    return;
  }
  while (records_.size() >= capacity_ && !order_.empty()) {
    records_.erase(order_.front());
    order_.pop_front();
  }
  order_.emplace_back(decision_id);
  records_.emplace(std::string(decision_id), std::move(record));
}

std::optional<DecisionRecord> DecisionRegistry::Lookup(std::string_view decision_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  const auto it = records_.find(decision_id);
  if (it == records_.end()) return std::nullopt;
  return it->second;
}

size_t DecisionRegistry::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return records_.size();
}

}  // namespace mec

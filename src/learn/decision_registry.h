#pragma once
// What the router decided, by decision id, so that later feedback (POST /v1/feedback
// {"decision_id", "score"}) can find which backend and task class to credit (QualityFeedback).
//
// Bounded: at most `capacity` decisions are kept; recording one more evicts the oldest (first in,
// first out). Recording an id again replaces its record and keeps its place in the order.
//
// Thread-safety: every method may be called from any thread (one mutex).

#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "config/options.h"
#include "core/clock.h"

namespace mec {

struct DecisionRecord {
  std::string backend;             // the backend that served (or was chosen)
  Tier tier = Tier::kCloud;
  std::string task_class;
  double predicted_quality = 0.0;  // the router's quality for this backend, in [0,1]
  TimePoint time{};                // when the decision was made (the gateway's Clock)
  std::string prompt;              // the scored prompt, kept only while learning is on (feedback becomes a verdict)
};

class DecisionRegistry {
 public:
  static constexpr size_t kDefaultCapacity = 100000;

  // REQUIRES: capacity > 0.
  explicit DecisionRegistry(size_t capacity = kDefaultCapacity);

  void Record(std::string_view decision_id, DecisionRecord record);

  // The record of a decision, or nullopt when it was never recorded or was evicted.
  std::optional<DecisionRecord> Lookup(std::string_view decision_id) const;

  size_t size() const;
  size_t capacity() const { return capacity_; }

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  const size_t capacity_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, DecisionRecord, Hash, std::equal_to<>> records_;  // guarded by mu_
  std::deque<std::string> order_;                                                     // guarded by mu_
};

}  // namespace mec

#pragma once
// What the router decided, by decision id, so that later feedback (POST /v1/feedback
// {"decision_id", "score"}) can find which backend and task class to credit (QualityFeedback).
//
// Bounded: at most `capacity` decisions are kept; recording one more evicts the oldest (first in,
// first out). Recording an id again replaces its record and keeps its place in the order.
//
// Every request records one decision, and at the default capacity the registry holds 100,000:
// the records live in a ring in the order they came (their strings reused in place), found by
// an open-addressing index of slot numbers, so that recording costs no allocation once the
// ring is full and touches about two cold cache lines (a std::unordered_map keyed by string, with
// a deque for the order, took ~6% of the gateway's CPU at saturation: docs/benchmarks.md).
//
// Thread-safety: every method may be called from any thread (one mutex).

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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

  // REQUIRES: capacity > 0. Memory grows with the decisions recorded, up to capacity.
  explicit DecisionRegistry(size_t capacity = kDefaultCapacity);

  void Record(std::string_view decision_id, DecisionRecord record);

  // The record of a decision, or nullopt when it was never recorded or was evicted.
  std::optional<DecisionRecord> Lookup(std::string_view decision_id) const;

  size_t size() const;
  size_t capacity() const { return capacity_; }

 private:
  struct Slot {
    std::string id;
    uint32_t hash = 0;  // HashOf(id): its home in index_ and its tag there
    DecisionRecord record;
  };
  // An index_ entry: the id's 32-bit hash above, its slot number + 1 below (0: empty), so that a
  // probe compares hashes without touching the slots.
  static constexpr uint64_t kEmpty = 0;
  static uint32_t HashOf(std::string_view id);

  // The index_ position that holds `id`'s slot, or the empty position where it would go.
  size_t Find(std::string_view id, uint32_t hash) const;
  void Unindex(size_t pos);  // removes index_[pos], shifting later entries of its run back
  static void Assign(DecisionRecord& to, DecisionRecord&& from);  // reuses to's strings

  const size_t capacity_;
  mutable std::mutex mu_;
  std::vector<Slot> slots_;       // guarded by mu_; a ring once full, oldest at next_
  size_t next_ = 0;               // guarded by mu_; the slot the next new id takes once full
  struct FreeDeleter {
    void operator()(uint64_t* p) const { std::free(p); }
  };
  // Guarded by mu_; a power of two >= 2 * capacity, linear probing. From calloc: the allocator
  // hands fresh pages it knows are zero untouched, so the 2 MB of the default capacity cost no
  // memory until decisions fill them (a vector's zero-fill touched them all at start).
  std::unique_ptr<uint64_t[], FreeDeleter> index_;
  size_t mask_ = 0;
  size_t max_probe_ = 0;  // guarded by mu_; no entry lies further from its home (a bound: never lowered)
};

}  // namespace mec

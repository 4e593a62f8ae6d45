#pragma once
// The complexity model's estimates of recent prompts, remembered: a repeated prompt (a game's
// templated NPC line, an IoT fleet's fixed question, a greeting) skips feature extraction and the
// stacked model, ~27,000 CPU instructions for a short prompt (docs/benchmarks.md).
//
// Keyed by a 64-bit hash of the prompt's text, not the text itself: memory stays fixed
// (`entries` x 64 bytes) whatever the prompts' lengths. Two different prompts with one hash would
// share an estimate (probability ~n^2 / 2^65 for n distinct prompts: ~5e-13 for 4,096); an
// estimate is routing advice, not an answer, so that is acceptable. Entries carry the model's
// generation: a swapped model (learning) never sees its predecessor's estimates.
//
// Direct-mapped, in shards with a mutex each. Thread-safety: every method may be called
// concurrently.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string_view>

#include "context/complexity_model.h"

namespace mec {

class EstimateMemo {
 public:
  // `entries` is rounded up to a power of two (at least 64).
  explicit EstimateMemo(size_t entries);

  static uint64_t Key(std::string_view prompt);
  // True and *out set when `key` was stored under `generation`.
  bool Find(uint64_t key, uint64_t generation, ComplexityEstimate* out) const;
  void Put(uint64_t key, uint64_t generation, const ComplexityEstimate& e);

  size_t capacity() const { return shards_ * per_shard_; }
  uint64_t hits() const { return hits_.load(std::memory_order_relaxed); }
  uint64_t misses() const { return misses_.load(std::memory_order_relaxed); }

 private:
  struct Slot {
    uint64_t key = 0;
    uint64_t generation = 0;
    bool used = false;
    ComplexityEstimate value;
  };
  struct Shard {
    mutable std::mutex mu;
    std::unique_ptr<Slot[]> slots;
  };
  Slot& SlotFor(uint64_t key, Shard** shard) const;

  size_t shards_;
  size_t per_shard_;
  std::unique_ptr<Shard[]> shard_;
  mutable std::atomic<uint64_t> hits_{0};
  mutable std::atomic<uint64_t> misses_{0};
};

}  // namespace mec

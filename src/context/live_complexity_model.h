#pragma once
// The complexity model the gateway routes with, replaceable at run time: the background trainer
// (learn/online_trainer.h) publishes an adapted model, a replica loads one another replica
// published, and every request after the swap sees the new model while requests already deciding
// finish on the one they started with (each call takes a reference to the current model).
//
// Thread-safety: every method may be called concurrently. Name() returns a view of an interned
// string that lives as long as this object (the names of all published models are kept: a few
// bytes each), so a caller may hold it across a swap.
//
// With a memo (EnableMemo, context/estimate_memo.h), Estimate() answers a prompt seen since the
// last swap from memory.

#include <atomic>
#include <deque>
#include <memory>
#include <mutex>
#include <string>

#include "context/complexity_model.h"
#include "context/estimate_memo.h"

namespace mec {

class LiveComplexityModel : public ComplexityModel {
 public:
  // REQUIRES: initial != nullptr.
  explicit LiveComplexityModel(std::shared_ptr<const ComplexityModel> initial);

  std::shared_ptr<const ComplexityModel> Current() const;
  // Replaces the current model (ignored when null); returns the number of swaps so far.
  int Swap(std::shared_ptr<const ComplexityModel> next);
  int swaps() const;

  double WeakAsGoodProbability(std::string_view prompt) const override { return Current()->WeakAsGoodProbability(prompt); }
  ComplexityEstimate Estimate(std::string_view prompt) const override;
  std::string_view Name() const override;

  // Remembers up to `entries` estimates (0: none, the default). Call before sharing this object.
  void EnableMemo(size_t entries);
  const EstimateMemo* memo() const { return memo_.get(); }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const ComplexityModel> current_;  // guarded by mu_
  std::deque<std::string> names_;                   // guarded by mu_; back() is the current name
  int swaps_ = 0;                                    // guarded by mu_
  std::atomic<uint64_t> generation_{0};              // = swaps_, stored after current_ changes
  std::unique_ptr<EstimateMemo> memo_;
};

}  // namespace mec

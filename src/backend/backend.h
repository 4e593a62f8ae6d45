#pragma once
// One configured backend and its live counters. The options are constant after construction; the
// counters are atomics updated by the request path and read by routing without locks.

#include <atomic>
#include <string>
#include <vector>

#include "config/options.h"

namespace mec {

class Backend {
 public:
  Backend(int index, BackendOptions options) : index_(index), options_(std::move(options)) {}

  int index() const { return index_; }
  const BackendOptions& options() const { return options_; }
  const std::string& name() const { return options_.name; }
  Tier tier() const { return options_.tier; }
  // The model name sent upstream for a tier or "auto" request.
  const std::string& default_model() const {
    return options_.models.empty() ? options_.embedding_models.front() : options_.models.front();
  }
  bool Serves(std::string_view model) const;
  bool ServesEmbeddings() const { return !options_.embedding_models.empty(); }

  // Live counters.
  std::atomic<int> in_flight{0};
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> failures{0};

 private:
  const int index_;
  const BackendOptions options_;
};

// RAII in-flight count (Envoy's resource guard).
class InFlightGuard {
 public:
  explicit InFlightGuard(Backend& b) : b_(&b) { b_->in_flight.fetch_add(1, std::memory_order_relaxed); }
  ~InFlightGuard() { b_->in_flight.fetch_sub(1, std::memory_order_relaxed); }
  InFlightGuard(const InFlightGuard&) = delete;
  InFlightGuard& operator=(const InFlightGuard&) = delete;

 private:
  Backend* b_;
};

}  // namespace mec

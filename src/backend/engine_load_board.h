#pragma once
// The latest EngineLoad of every backend, written by the engine poller (net/engine_poller.h) off
// the request path and read by whoever routes or reports (telemetry/engine_metrics.h). A reading
// is replaced whole; readers get a shared, immutable copy.
//
// Thread-safety: every method may be called from any thread. Latest() takes a per-backend mutex
// for a pointer copy (no allocation, no parsing under it).

#include <memory>
#include <mutex>
#include <vector>

#include "backend/engine_load.h"

namespace mec {

class EngineLoadBoard {
 public:
  explicit EngineLoadBoard(size_t backends);

  size_t size() const { return slots_.size(); }
  // REQUIRES: b < size().
  void Set(size_t b, EngineLoad load);
  // The latest reading of backend b, or null before its first.
  std::shared_ptr<const EngineLoad> Latest(size_t b) const;

 private:
  struct Slot {
    mutable std::mutex mu;
    std::shared_ptr<const EngineLoad> load;  // guarded by mu
  };
  std::vector<Slot> slots_;
};

}  // namespace mec

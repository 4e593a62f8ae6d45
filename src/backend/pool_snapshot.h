#pragma once
// An immutable picture of every backend, published by BackendMonitor::Publish(now). Routing reads
// the current snapshot through a plain atomic pointer load: no lock while deciding.

#include <vector>

#include "backend/backend_view.h"
#include "core/clock.h"

namespace mec {

struct PoolSnapshot {
  TimePoint taken{};
  uint64_t version = 0;
  std::vector<BackendView> backends;  // indexed like BackendPool
};

}  // namespace mec

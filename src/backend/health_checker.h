#pragma once
// The state machine of active health checks for one backend (no I/O: net/health_prober.cc does the
// requests), after Envoy's health_checker_base_impl: `unhealthy_threshold` failed checks in a row
// make a healthy backend unhealthy, `healthy_threshold` passes in a row make it healthy again, and
// checks are spaced by the interval with +-jitter so that many gateways do not probe in lockstep.
//
// A backend starts kUnknown and counts as passing, so a fresh gateway serves at once; the first
// result then decides immediately (one pass -> healthy, one failure -> unhealthy), like Envoy's
// first check of a new host. With checks disabled the state stays kUnknown (passing).
//
// CombineHealth() merges this with the outlier detector's state into the HealthState and
// `routable` flag that routing sees in a BackendView.
//
// Thread-safety: none; the owner serializes access.

#include "backend/backend_view.h"
#include "backend/outlier_detector.h"
#include "config/options.h"
#include "core/clock.h"
#include "core/rng.h"

namespace mec {

enum class ActiveHealth { kUnknown, kHealthy, kUnhealthy };

// interval x (1 + jitter x U(-1, 1)), at least 1 ms. REQUIRES: 0 <= jitter < 1.
Duration JitteredInterval(Duration interval, double jitter, Rng& rng);

class HealthChecker {
 public:
  explicit HealthChecker(const HealthCheckOptions& options) : options_(options) {}

  // One check's result. Returns true when the status changed.
  bool OnResult(bool ok);
  ActiveHealth status() const { return status_; }
  bool passing() const { return status_ != ActiveHealth::kUnhealthy; }
  int consecutive_passes() const { return passes_; }
  int consecutive_failures() const { return failures_; }

 private:
  const HealthCheckOptions options_;
  ActiveHealth status_ = ActiveHealth::kUnknown;
  int passes_ = 0;
  int failures_ = 0;
};

struct CombinedHealth {
  HealthState state = HealthState::kHealthy;
  bool routable = true;
};
// Ejected beats unhealthy beats half-open beats healthy. Routable: healthy, or half-open with the
// probe slot free and active checks passing.
CombinedHealth CombineHealth(OutlierState outlier, ActiveHealth active);

}  // namespace mec

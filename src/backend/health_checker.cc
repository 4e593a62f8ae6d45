#include "backend/health_checker.h"

#include <algorithm>

namespace mec {

Duration JitteredInterval(Duration interval, double jitter, Rng& rng) {
  jitter = std::clamp(jitter, 0.0, 0.999);
  const double factor = 1 + jitter * rng.Uniform(-1, 1);
  const auto d = Duration(static_cast<int64_t>(static_cast<double>(interval.count()) * factor));
  return std::max<Duration>(d, std::chrono::milliseconds(1));
}

bool HealthChecker::OnResult(bool ok) {
  const ActiveHealth before = status_;
  if (ok) {
    ++passes_;
    failures_ = 0;
    if (status_ == ActiveHealth::kUnknown || passes_ >= options_.healthy_threshold) status_ = ActiveHealth::kHealthy;
  } else {
    ++failures_;
    passes_ = 0;
    if (status_ == ActiveHealth::kUnknown || failures_ >= options_.unhealthy_threshold) status_ = ActiveHealth::kUnhealthy;
  }
  return status_ != before;
}

CombinedHealth CombineHealth(OutlierState outlier, ActiveHealth active) {
  const bool passing = active != ActiveHealth::kUnhealthy;
  switch (outlier) {
    case OutlierState::kEjected: return {HealthState::kEjected, false};
    case OutlierState::kHalfOpen: return {passing ? HealthState::kHalfOpen : HealthState::kUnhealthy, passing};
    case OutlierState::kProbing: return {passing ? HealthState::kHalfOpen : HealthState::kUnhealthy, false};
    case OutlierState::kClosed: break;
  }
  return {passing ? HealthState::kHealthy : HealthState::kUnhealthy, passing};
}

}  // namespace mec

#include "backend/outlier_detector.h"

#include <algorithm>

namespace mec {

const char* OutlierStateName(OutlierState s) {
  switch (s) {
    case OutlierState::kClosed: return "closed";
    case OutlierState::kEjected: return "ejected";
    case OutlierState::kHalfOpen: return "half-open";
    case OutlierState::kProbing: return "probing";
  }
  return "?";
}

Duration EjectionDuration(int multiplier, Duration base, Duration max) {
  if (multiplier < 1) multiplier = 1;
  // Compare before multiplying: base x a large multiplier would overflow.
  if (base.count() > 0 && multiplier >= max.count() / base.count() + 1) return max;
  return std::min(base * multiplier, max);
}

int DecayedMultiplier(int multiplier, Duration healthy_for, Duration base) {
  if (multiplier <= 0 || healthy_for <= Duration::zero() || base <= Duration::zero()) return std::max(multiplier, 0);
  const int64_t steps = healthy_for / base;
  return steps >= multiplier ? 0 : multiplier - static_cast<int>(steps);
}

OutlierDetector::OutlierDetector(const OutlierOptions& options, Duration probe_lease)
    : options_(options),
      base_(std::chrono::milliseconds(options.base_ejection_ms)),
      max_(std::chrono::milliseconds(std::max(options.max_ejection_ms, options.base_ejection_ms))),
      probe_lease_(probe_lease) {}

OutlierState OutlierDetector::state(TimePoint now) const {
  if (state_ == OutlierState::kEjected && now >= ejected_until_) return OutlierState::kHalfOpen;
  if (state_ == OutlierState::kProbing && now >= probe_until_) return OutlierState::kHalfOpen;
  return state_;
}

Duration OutlierDetector::ejected_for(TimePoint now) const {
  return state(now) == OutlierState::kEjected ? ejected_until_ - now : Duration::zero();
}

void OutlierDetector::Advance(TimePoint now) { state_ = state(now); }

void OutlierDetector::Eject(TimePoint now) {
  if (state_ == OutlierState::kClosed) multiplier_ = DecayedMultiplier(multiplier_, now - closed_since_, base_);
  ++multiplier_;
  ++ejections_;
  state_ = OutlierState::kEjected;
  ejected_until_ = now + EjectionDuration(multiplier_, base_, max_);
  local_streak_ = upstream_streak_ = 0;
}

void OutlierDetector::Close(TimePoint now) {
  state_ = OutlierState::kClosed;
  closed_since_ = now;
  local_streak_ = upstream_streak_ = 0;
}

bool OutlierDetector::EjectFor(Duration d, TimePoint now) {
  Advance(now);
  if (d <= Duration::zero() || state_ == OutlierState::kProbing) return false;
  const TimePoint until = now + std::min(d, max_);
  if (state_ == OutlierState::kEjected && until <= ejected_until_) return false;
  state_ = OutlierState::kEjected;
  ejected_until_ = until;
  local_streak_ = upstream_streak_ = 0;
  ++peer_ejections_;
  return true;
}

bool OutlierDetector::OnHealthCheckPassed(TimePoint now) {
  Advance(now);
  if (state_ != OutlierState::kEjected) return false;
  ejected_until_ = now;
  state_ = OutlierState::kHalfOpen;
  return true;
}

bool OutlierDetector::TryClaimProbe(TimePoint now) {
  Advance(now);
  if (state_ != OutlierState::kHalfOpen) return false;
  state_ = OutlierState::kProbing;
  probe_until_ = now + probe_lease_;
  return true;
}

bool OutlierDetector::OnResult(AttemptResult r, TimePoint now) {
  Advance(now);
  switch (state_) {
    case OutlierState::kEjected:
      return false;  // a straggler started before the ejection
    case OutlierState::kHalfOpen:
    case OutlierState::kProbing:
      if (r == AttemptResult::kOk) {
        Close(now);
        return true;
      }
      if (IsFailure(r)) {
        Eject(now);
        return true;
      }
      if (state_ == OutlierState::kProbing) {  // 429, a client error, cancelled: let another request probe
        state_ = OutlierState::kHalfOpen;
        return true;
      }
      return false;
    case OutlierState::kClosed:
      break;
  }
  if (r == AttemptResult::kOk) {
    local_streak_ = upstream_streak_ = 0;
    return false;
  }
  if (ProvesPath(r)) local_streak_ = 0;  // a response (or a cut stream) came back: the path works
  if (IsLocalFailure(r)) ++local_streak_;
  else if (IsUpstreamFailure(r)) ++upstream_streak_;
  else return false;  // 429 (busy is not broken), a client error, a cancellation
  if (StreakEjects(local_streak_, options_.consecutive_local_failures) ||
      StreakEjects(upstream_streak_, options_.consecutive_upstream_failures)) {
    Eject(now);
    return true;
  }
  return false;
}

}  // namespace mec

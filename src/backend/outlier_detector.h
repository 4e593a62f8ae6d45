#pragma once
// Passive outlier detection for one backend, after Envoy's consecutive-failure detectors
// (source/common/upstream/outlier_detection_impl.h), fed with the result of every attempt.
//
// Failures are counted in two streaks (Envoy's split_external_local_origin_errors):
//  - local-origin: connect failed or timed out (the path or the host is unreachable);
//  - upstream: 5xx, a reset before the first byte, a stream cut mid-way (the server is sick).
// A response of any status proves the path works and ends the local streak; a success ends both.
// 429 (the server is busy, not broken) and cancellations (the client left, a hedge lost) are not
// failures. A streak reaching its threshold ejects the backend for base x multiplier (capped at
// max), where the multiplier counts ejections and drops by one for every `base` the backend then
// stays healthy (Envoy decrements it each interval a host stays un-ejected).
//
// When the ejection expires the backend is half-open: TryClaimProbe lets exactly one request go.
// Its success closes the circuit; its failure ejects again, for longer. If the probe's outcome is
// 429 or a cancellation, the slot is released for another probe; if it never arrives, the claim
// lapses after `probe_lease`. An attempt result that arrives while half-open is taken as the probe's.
// Results that arrive while ejected (attempts started before the ejection) are ignored.
//
// Another replica's ejection (state/replica_sync), or one the fleet state reports (backend/fleet_priors.h), enters through EjectFor: it takes a backend in
// service or half-open out until the peer's ejection ends (never beyond max), lengthens a shorter
// ejection, and leaves a probe in flight alone (its outcome is fresher evidence). It neither counts
// as this detector's ejection nor raises the multiplier: only local failures escalate.
//
// A passing active health check (OnHealthCheckPassed) ends an ejection's wait, as Envoy's
// successful_active_health_check_uneject_host does, with one difference: the backend turns
// half-open rather than in service, so one real request probes it first. An LLM server often
// answers GET /models while its generation fails (model crashed, GPU out of memory); then the probe
// fails and ejects it again, and one request per health-check interval pays a failover, rather than
// an ejection outliving a short outage by up to max_ejection_ms.
//
// Thread-safety: none; the owner serializes access.

#include <cstdint>

#include "backend/attempt_result.h"
#include "config/options.h"
#include "core/clock.h"

namespace mec {

enum class OutlierState {
  kClosed,    // in service
  kEjected,   // out of service until the ejection time passes
  kHalfOpen,  // ejection expired; the probe slot is free
  kProbing,   // ejection expired; one probe is in flight
};
const char* OutlierStateName(OutlierState s);

// Threshold math, standalone (tests call it).
// True when a streak of `consecutive` failures reaches `threshold` (0 disables the detector).
inline bool StreakEjects(int consecutive, int threshold) { return threshold > 0 && consecutive >= threshold; }
// base x multiplier, capped at max. REQUIRES: multiplier >= 1.
Duration EjectionDuration(int multiplier, Duration base, Duration max);
// The multiplier after staying healthy for `healthy_for`: one step down per `base`, not below 0.
int DecayedMultiplier(int multiplier, Duration healthy_for, Duration base);

class OutlierDetector {
 public:
  OutlierDetector(const OutlierOptions& options, Duration probe_lease);

  // Feeds one attempt's result. Returns true when the state changed (ejected, closed, probe released).
  bool OnResult(AttemptResult r, TimePoint now);
  // A peer's ejection for `d` from now (see above). Returns true when the state changed.
  bool EjectFor(Duration d, TimePoint now);
  // An active health check passed: an ejected backend turns half-open now (see above). Returns
  // true when the state changed.
  bool OnHealthCheckPassed(TimePoint now);
  // Half-open: true for exactly one caller (the probe). False in every other state.
  bool TryClaimProbe(TimePoint now);

  OutlierState state(TimePoint now) const;
  // Time left in the current ejection (zero unless ejected).
  Duration ejected_for(TimePoint now) const;
  int64_t ejections() const { return ejections_; }         // this detector's own
  int64_t peer_ejections() const { return peer_ejections_; }  // EjectFor calls that took effect
  int multiplier() const { return multiplier_; }
  int consecutive_local() const { return local_streak_; }
  int consecutive_upstream() const { return upstream_streak_; }

 private:
  void Advance(TimePoint now);  // applies expiries (ejection -> half-open, lapsed probe -> half-open)
  void Eject(TimePoint now);
  void Close(TimePoint now);

  const OutlierOptions options_;
  const Duration base_, max_, probe_lease_;
  OutlierState state_ = OutlierState::kClosed;
  int local_streak_ = 0;
  int upstream_streak_ = 0;
  int multiplier_ = 0;
  int64_t ejections_ = 0;
  int64_t peer_ejections_ = 0;
  TimePoint ejected_until_{};
  TimePoint probe_until_{};
  TimePoint closed_since_{};
};

}  // namespace mec

#pragma once
// Fleet state as priors (docs/fleet.md): what a regional gateway published about a backend
// (backend/fleet_state.h) becomes this gateway's prior for the backend of the same name and tier,
// under its own observations. No I/O; the poller (net/fleet_poller.h) fetches, this applies.
//
//  - TTFT and time per output token: the publisher's estimate replaces the configured prior
//    (LatencyEstimator::OverridePrior) as min(its weight, max_weight) pseudo-observations, so the
//    local data, pooled with it, win as they accumulate. The publisher's TTFT includes ITS network
//    round trip to the backend, not ours: the prior's median is the publisher's TTFT less its RTT
//    (never below a tenth of its TTFT) plus our own RTT estimate. An estimate behind less than
//    kMinFleetWeight observations says nothing beyond the publisher's configuration: the
//    configured prior stays.
//  - RTT is not transferred (the network between us and the backend is ours to measure).
//  - A backend the publisher has ejected is taken out for the time its ejection has left; one its
//    active health checks call unhealthy is taken out for `down_for_unhealthy` (the poller gives
//    one pull interval, so it returns soon after the publisher says it is healthy or falls
//    silent). Both go through BackendMonitor::OnFleetPrior like a peer replica's ejection: bounded
//    by the backend's max ejection, probed half-open afterwards, subject to the panic threshold.
//  - Every override lapses `valid_for` after the pull (the poller's stale_s): stale or
//    unreachable fleet state falls back to the configured priors without anyone acting.

#include "backend/backend_monitor.h"
#include "backend/backend_pool.h"
#include "backend/fleet_state.h"
#include "core/clock.h"

namespace mec {

inline constexpr double kMinFleetWeight = 0.5;

struct FleetApplyOptions {
  double max_weight = 5;           // REQUIRES: > 0
  Duration valid_for{};            // overrides lapse this long after `now`
  Duration down_for_unhealthy{};   // out of service this long when the publisher says unhealthy
};

// The prior for one backend, given the publisher's view of it and our RTT estimate (seconds).
FleetPrior FleetPriorFor(const FleetBackendState& remote, double local_rtt_s, const FleetApplyOptions& o);

struct FleetApplyResult {
  int matched = 0;       // backends found here by name and tier
  int down = 0;          // of them, reported ejected or unhealthy
  bool changed = false;  // an ejection changed: publish a snapshot
};

// Applies every matching backend's prior at `now`. Backends the state does not name keep what
// they have (an earlier pull's override lapses on its own).
FleetApplyResult ApplyFleetState(const FleetState& state, const BackendPool& pool, BackendMonitor& monitor,
                                 const FleetApplyOptions& o, TimePoint now);

}  // namespace mec

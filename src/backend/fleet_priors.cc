#include "backend/fleet_priors.h"

#include <algorithm>

namespace mec {
namespace {

std::optional<LatencyPrior> PriorOf(const FleetEstimate& e, double median_s, double max_weight) {
  const double w = std::min(e.weight, max_weight);
  if (!(w >= kMinFleetWeight) || !(median_s > 0)) return std::nullopt;
  return LatencyPrior{median_s, e.sigma, w};
}

}  // namespace

FleetPrior FleetPriorFor(const FleetBackendState& remote, double local_rtt_s, const FleetApplyOptions& o) {
  FleetPrior p;
  const double server_s = std::max(remote.ttft.median_s - remote.rtt.median_s, 0.1 * remote.ttft.median_s);
  p.ttft = PriorOf(remote.ttft, server_s + std::max(local_rtt_s, 0.0), o.max_weight);
  p.tpot = PriorOf(remote.tpot, remote.tpot.median_s, o.max_weight);
  if (remote.health == HealthState::kEjected && remote.ejected_for_s > 0) p.down_for = FromSeconds(remote.ejected_for_s);
  else if (remote.health == HealthState::kUnhealthy) p.down_for = o.down_for_unhealthy;
  return p;
}

FleetApplyResult ApplyFleetState(const FleetState& state, const BackendPool& pool, BackendMonitor& monitor,
                                 const FleetApplyOptions& o, TimePoint now) {
  FleetApplyResult r;
  for (const FleetBackendState& remote : state.backends) {
    for (size_t i = 0; i < pool.size(); ++i) {
      const Backend& b = pool.at(i);
      if (b.name() != remote.name || TierName(b.tier()) != remote.tier) continue;
      const int bi = static_cast<int>(i);
      const FleetPrior p = FleetPriorFor(remote, monitor.View(bi, now).rtt.Median(), o);
      ++r.matched;
      r.down += p.down_for > Duration::zero();
      r.changed |= monitor.OnFleetPrior(bi, p, now + o.valid_for, now);
      break;
    }
  }
  return r;
}

}  // namespace mec

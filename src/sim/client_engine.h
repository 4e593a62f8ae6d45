#pragma once
// One simulated client's routing engine (the client-side deployment, DESIGN.md §1; requests run
// through gateway/request_flow.h on it, as through the gateway's) and how its
// configuration is derived from a scenario: its backend pool (device, each edge site with its home
// site first, the cloud) with prices, timeouts and latency priors, and the monitor, learners and
// context builder the gateway would own. The simulator holds one per client.
// Thread-safety: none (one simulation thread).

#include <string>
#include <vector>

#include "config/options.h"
#include "core/rng.h"
#include "gateway/engine_parts.h"
#include "sim/scenario.h"

namespace mec::sim {

// The engine of one client: what `mecrouter serve` would hold, minus the sockets, wired as the
// gateway's (gateway/engine_parts.h), plus the client's own random streams.
struct ClientEngine : EngineParts {
  // `clock`: the simulation's; `max_attempts`: the scenario's.
  ClientEngine(const std::vector<BackendOptions>& backends, const Clock& clock, const ComplexityModel& complexity,
               ContextDefaults defaults, uint64_t seed, uint32_t client, int max_attempts, QualityBudgetOptions quality = {})
      : EngineParts(backends, clock, complexity, defaults, max_attempts, quality),
        rng(seed, "client/" + std::to_string(client) + "/route"),
        feedback_rng(seed, "client/" + std::to_string(client) + "/feedback") {}
  Rng rng;
  Rng feedback_rng;
};

// What a client's engine expects of a backend before measuring it (config `expect:`), from the
// tier model itself (see client_engine.cc).
ExpectOptions ProfilePriors(const TierProfile& p, double rtt_ms);
// A client lists its home edge site first, then the others in scenario order (its config order).
std::vector<int> SiteOrder(const Scenario& s, int home_site);
// The backends of a client of class `d` on `link`, homed at `home_site`: device, edge sites in
// SiteOrder, cloud.
std::vector<BackendOptions> ClientBackends(const Scenario& s, const DeviceClassSpec& d, const LinkSpec& link, int home_site);

}  // namespace mec::sim

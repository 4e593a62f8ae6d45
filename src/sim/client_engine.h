#pragma once
// One simulated client's routing engine (the client-side deployment, DESIGN.md §1; requests run
// through gateway/request_flow.h on it, as through the gateway's) and how its
// configuration is derived from a scenario: its backend pool (device, each edge site with its home
// site first, the cloud) with prices, timeouts and latency priors, and the monitor, learners and
// context builder the gateway would own. The simulator holds one per client.
// Thread-safety: none (one simulation thread).

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "backend/backend_monitor.h"
#include "backend/backend_pool.h"
#include "config/options.h"
#include "context/context_builder.h"
#include "core/rng.h"
#include "gateway/engine.h"
#include "learn/output_tokens.h"
#include "learn/quality_budget.h"
#include "learn/quality_feedback.h"
#include "sim/scenario.h"

namespace mec::sim {

// The engine of one client: what `mecrouter serve` would hold, minus the sockets.
struct ClientEngine {
  // `clock`: the simulation's; `max_attempts`: the scenario's.
  ClientEngine(const std::vector<BackendOptions>& backends, const Clock& clock, const ComplexityModel& complexity,
               ContextDefaults defaults, uint64_t seed, uint32_t client, int max_attempts, QualityBudgetOptions quality = {})
      : pool(backends),
        monitor(pool, clock.Now()),
        builder(complexity, defaults, [this](std::string_view task) { return learner.Expected(task); }),
        rng(seed, "client/" + std::to_string(client) + "/route"),
        feedback_rng(seed, "client/" + std::to_string(client) + "/feedback"),
        quality_budget(quality),
        engine{pool, monitor, learner, clock, names, max_attempts} {
    for (const auto& b : pool.all()) names.push_back(b->name());
    engine.quality_budget = &quality_budget;
  }
  // Quality feedback, as the gateway wires it (only built when the scenario has feedback).
  void EnableFeedback() {
    feedback = std::make_unique<QualityFeedback>();
    adjust = [this](int b, const std::string& task, double q) { return feedback->Adjusted(pool.at(b).name(), task, q); };
    engine.adjust_quality = &adjust;
  }
  BackendPool pool;
  BackendMonitor monitor;
  OutputTokenLearner learner;
  ContextBuilder builder;
  Rng rng;
  Rng feedback_rng;
  std::vector<std::string> names;
  QualityBudget quality_budget;  // the minimum quality per class (as the gateway holds it)
  std::unique_ptr<QualityFeedback> feedback;
  std::function<double(int, const std::string&, double)> adjust;
  Engine engine;  // the parts above, as the request flow (gateway/request_flow.h) reads them
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

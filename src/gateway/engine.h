#pragma once
// One routing engine (DESIGN.md §3): the parts a request flow (request_flow.h) reads and feeds.
// `mecrouter serve` and `demo` hold one per process, shared by every worker; the simulator one per
// simulated client (sim/client_engine.h). It only refers to parts owned elsewhere; the optional
// ones are pointers (null: off). Constant after construction.

#include <functional>
#include <string>
#include <vector>

#include "backend/backend_monitor.h"
#include "backend/backend_pool.h"
#include "core/clock.h"
#include "learn/output_tokens.h"
#include "learn/quality_budget.h"

namespace mec {

class Telemetry;
class QualityFeedback;
class ReplicaSync;
class PrefixIndex;
struct GatewayStats;

struct Engine {
  BackendPool& pool;
  BackendMonitor& monitor;
  OutputTokenLearner& output_tokens;  // answer lengths per task class, learned from every success
  const Clock& clock;
  const std::vector<std::string>& names;  // backend names by index (pool order), for messages
  int max_attempts = 3;
  // The learned quality of a backend for a task class (learn/quality_feedback.h); null: none.
  const std::function<double(int backend, const std::string& task_class, double predicted)>* adjust_quality = nullptr;
  // The same table, read in one lookup per decision (RouteEnv::quality_feedback); set with
  // adjust_quality, null when it is.
  const QualityFeedback* quality_feedback = nullptr;
  QualityBudget* quality_budget = nullptr;  // adaptive's minimum quality per class; null: per request
  Telemetry* telemetry = nullptr;           // decisions and attempts in metrics and logs
  GatewayStats* stats = nullptr;            // the gateway's counters (/api/stats)
  ReplicaSync* replicas = nullptr;          // latency observations shared through Redis
  PrefixIndex* prefix_index = nullptr;      // prefix affinity (cache/prefix_index.h); null: off
};

}  // namespace mec

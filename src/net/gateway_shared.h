#pragma once
// What every worker's gateway handler (gateway_handler.h) and the operator routes
// (dashboard_routes.h) read: one per process. Constant after construction except the atomics.

#include <atomic>
#include <map>
#include <memory>

#include "auth/key_guard.h"
#include "backend/engine_load_board.h"
#include "cache/response_cache.h"
#include "config/options.h"
#include "context/live_complexity_model.h"
#include "core/clock.h"
#include "dashboard/dashboard.h"
#include "gateway/engine_parts.h"
#include "gateway/gateway_stats.h"
#include "learn/decision_registry.h"
#include "route/router.h"
#include "state/replica_sync.h"
#include "state/shared_cache.h"
#include "telemetry/telemetry.h"

namespace mec::net {

class LearningWorker;
class FleetPoller;

// State every worker reads. Constant after construction except the atomics.
struct GatewayShared {
  const Options& options;
  const Clock& clock;
  // The engine: pool, monitor, context builder, learners; `parts.engine` is what each request's
  // flow (gateway/request_flow.h) reads and feeds. Built once per process (gateway/engine_parts.h).
  EngineParts& parts;
  // Every policy by name; `policy` is the config's default, `shadow` (may be null) only recorded.
  std::map<std::string, std::unique_ptr<Router>, std::less<>>& policies;
  const Router* policy = nullptr;
  const Router* shadow = nullptr;
  DecisionRegistry& decisions;
  GatewayStats stats;
  std::atomic<bool> draining{false};
  std::atomic<uint64_t> next_id{0};
  uint64_t id_salt = 0;  // makes decision ids unique across restarts
  Telemetry* telemetry = nullptr;  // metrics (GET /metrics), decision and access logs; null: off
  Dashboard* dashboard = nullptr;  // GET /dashboard, /api/dashboard and the operator endpoints' token; null: off
  ResponseCache* cache = nullptr;  // answers of repeatable requests; null: off
  ReplicaSync* replicas = nullptr;  // shares latency observations and ejections through Redis; null: off
  SharedCache* shared_cache = nullptr;  // the response cache's level shared by replicas (Redis); null: off
  LearningWorker* learning = nullptr;  // judged samples and online retraining (net/learning_worker.h); null: off
  const EngineLoadBoard* engines = nullptr;  // what polled engines report (net/engine_poller.h); null: none polled
  // Off loopback (docs/security.md): without an operator token the operator endpoints are closed
  // (403); /metrics needs the token unless server.open_metrics.
  std::string admin_token{};      // "" = none
  bool admin_token_set = false;
  bool operator_closed = false;
  bool metrics_need_token = false;
  // The fleet state (docs/fleet.md): the token GET /v1/fleet/state asks for ("" = not published),
  // its answers so far, the pulling end (null: not pulling) and the live complexity model it names.
  std::string fleet_token{};
  std::atomic<uint64_t> fleet_served{0}, fleet_refused{0};
  const FleetPoller* fleet = nullptr;
  const LiveComplexityModel* complexity = nullptr;
  KeyGuard* keys = nullptr;  // API keys and their limits (auth.keys_db, docs/security.md); null: no key is asked for
};

}  // namespace mec::net

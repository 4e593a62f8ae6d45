#pragma once
// The JSON behind the dashboard page (GET /api/dashboard, GET /api/decisions); docs/dashboard.md
// lists every field. Pure functions of their inputs.

#include <string>
#include <string_view>
#include <vector>

#include "backend/pool_snapshot.h"
#include "dashboard/live_stats.h"

namespace mec {

// {"now", "window_s", "step_s", "tiers", "backends", "traffic", "latency", "percentiles",
//  "cost", "totals", "decisions", "stats"}. `backends` names the snapshot's entries (same order);
// `stats_json` is GET /api/stats's object, inserted as is (REQUIRES: valid JSON).
std::string DashboardJson(const LiveView& view, const PoolSnapshot& snapshot, const std::vector<LiveBackend>& backends,
                          std::string_view stats_json);

// {"decisions": [...]}, newest first.
std::string DecisionsJson(const std::vector<DecisionRow>& decisions);

}  // namespace mec

#pragma once
// The dashboard (GET /dashboard and its JSON, docs/dashboard.md): the page built once from the
// embedded assets, the live statistics the Telemetry facade feeds (live_stats.h), and the bearer
// token guard of the operator endpoints (access_guard.h). The HTTP side is net/dashboard_routes.h;
// `main` wires: telemetry.set_outcome_observer(&dashboard.live_stats()).
//
// Thread-safety: every method may be called from any thread (LiveStats locks; the rest is
// constant after construction).

#include <string>
#include <string_view>
#include <vector>

#include "backend/backend_pool.h"
#include "backend/pool_snapshot.h"
#include "config/options.h"
#include "core/clock.h"
#include "dashboard/access_guard.h"
#include "dashboard/live_stats.h"

namespace mec {

class Dashboard {
 public:
  // Decisions shown on the page per poll (GET /api/decisions returns up to the ring's size).
  static constexpr int kPageDecisions = 50;

  // `token`: the resolved bearer token ("" = none; see TokenFromEnv).
  Dashboard(const DashboardOptions& options, std::string token, const BackendPool& pool, const Clock& clock);

  bool enabled() const { return options_.enabled; }
  const AccessGuard& guard() const { return guard_; }
  LiveStats& live_stats() { return live_; }

  // The HTML document of GET /dashboard.
  const std::string& page() const { return page_; }
  // GET /api/dashboard: everything the page shows, at the clock's now. `stats_json`: /api/stats.
  std::string StateJson(const PoolSnapshot& snapshot, std::string_view stats_json) const;
  // GET /api/decisions: the latest `n` decisions (clamped to what is kept), newest first.
  std::string DecisionsJson(int n) const;

 private:
  const DashboardOptions options_;
  const Clock& clock_;
  const std::vector<LiveBackend> backends_;
  const AccessGuard guard_;
  const std::string page_;
  LiveStats live_;
};

}  // namespace mec

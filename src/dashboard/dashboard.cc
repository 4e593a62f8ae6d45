#include "dashboard/dashboard.h"

#include "dashboard/dashboard_json.h"
#include "dashboard/dashboard_page.h"
#include "dashboard/embedded_assets.h"

namespace mec {

namespace {

std::vector<LiveBackend> Backends(const BackendPool& pool) {
  std::vector<LiveBackend> out;
  for (const auto& b : pool.all()) out.push_back({b->name(), b->tier(), b->options().price, b->options().engine});
  return out;
}

LiveStatsOptions LiveOptions(const DashboardOptions& o) {
  LiveStatsOptions l;
  l.decisions = o.decisions;
  l.window_s = o.window_s;
  return l;
}

}  // namespace

Dashboard::Dashboard(const DashboardOptions& options, std::string token, const BackendPool& pool, const Clock& clock)
    : options_(options),
      clock_(clock),
      backends_(Backends(pool)),
      guard_(std::move(token)),
      page_(BuildDashboardPage({EmbeddedAsset("index.html"), EmbeddedAsset("dashboard.css"), EmbeddedAsset("dashboard.js"),
                                EmbeddedAsset("uPlot.min.css"), EmbeddedAsset("uPlot.iife.min.js")})),
      live_(LiveOptions(options), backends_, clock) {}

std::string Dashboard::StateJson(const PoolSnapshot& snapshot, std::string_view stats_json) const {
  return DashboardJson(live_.View(clock_.Now(), kPageDecisions), snapshot, backends_, stats_json);
}

std::string Dashboard::DecisionsJson(int n) const {
  return mec::DecisionsJson(live_.Decisions(n));
}

}  // namespace mec

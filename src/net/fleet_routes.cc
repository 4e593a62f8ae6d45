#include "net/fleet_routes.h"

#include "backend/fleet_state.h"
#include "dashboard/access_guard.h"
#include "learn/quality_feedback.h"
#include "net/fleet_poller.h"

namespace mec::net {
namespace {

// This gateway's own feedback per (backend, task class), for the fleet state.
std::vector<FleetClassQuality> FleetClasses(const QualityFeedback& feedback, const BackendPool& pool) {
  std::vector<FleetClassQuality> out;
  for (QualityCount& c : feedback.List(kMaxFleetClasses)) {
    std::string tier;
    for (const auto& b : pool.all())
      if (b->name() == c.backend) tier = std::string(TierName(b->tier()));
    if (tier.empty()) continue;  // feedback on a backend no longer configured
    out.push_back({std::move(c.backend), std::move(tier), std::move(c.task_class), c.score, c.n});
  }
  return out;
}

}  // namespace

std::optional<HttpResponse> FleetRoute(GatewayShared& s, const HttpRequest& req, std::string_view path) {
  const bool ka = req.keep_alive();
  const unsigned v = req.version();
  const bool get = req.method() == http::verb::get || req.method() == http::verb::head;
  if (path == "/api/fleet" && get) {  // the operator token was checked before (AccessGuard protects /api)
    HttpResponse res = JsonResponse(s.fleet ? s.fleet->Json(s.clock.Now()) : std::string(R"({"pulling":false})"), v, ka);
    res.set(http::field::cache_control, "no-store");
    return res;
  }
  if (path != kFleetStatePath || s.fleet_token.empty()) return std::nullopt;
  if (!get)
    return ErrorResponse({405, "invalid_request_error", "Method not allowed: use GET for /v1/fleet/state.", "", "method_not_allowed"}, v, ka);
  if (!BearerMatches(req[http::field::authorization], s.fleet_token)) {
    s.fleet_refused.fetch_add(1, std::memory_order_relaxed);
    HttpResponse res = ErrorResponse({401, "invalid_request_error",
                                      "The fleet state needs 'Authorization: Bearer <token>' (the token in the environment variable "
                                      "named by fleet.token_env on the publishing gateway).",
                                      "", "invalid_api_key"},
                                     v, ka);
    res.set(http::field::www_authenticate, "Bearer realm=\"mecrouter-fleet\"");
    return res;
  }
  FleetState st = FleetStateFromSnapshot(s.parts.monitor.Current(), s.parts.pool, s.clock.UnixMillis());
  if (s.complexity) st.quality = {std::string(s.complexity->Name()), s.complexity->swaps()};
  if (s.parts.feedback) st.quality.classes = FleetClasses(*s.parts.feedback, s.parts.pool);
  s.fleet_served.fetch_add(1, std::memory_order_relaxed);
  HttpResponse res = JsonResponse(FleetStateToJson(st), v, ka);
  res.set(http::field::cache_control, "no-store");
  return res;
}

std::string FleetMetricsText(const GatewayShared& s) {
  std::string out;
  if (!s.fleet_token.empty() && s.options.fleet.publish) {
    out += "# HELP mecrouter_fleet_publish_total Answers to GET /v1/fleet/state, by result\n"
           "# TYPE mecrouter_fleet_publish_total counter\n";
    out += "mecrouter_fleet_publish_total{result=\"ok\"} " + std::to_string(s.fleet_served.load()) + "\n";
    out += "mecrouter_fleet_publish_total{result=\"unauthorized\"} " + std::to_string(s.fleet_refused.load()) + "\n";
  }
  if (s.fleet) out += s.fleet->MetricsText(s.clock.Now());
  return out;
}

}  // namespace mec::net

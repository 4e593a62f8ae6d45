#include "net/dashboard_routes.h"

#include <cstdlib>

#include "auth/key_guard.h"
#include "core/json_writer.h"
#include "dashboard/access_guard.h"
#include "dashboard/dashboard.h"

namespace mec::net {

namespace {

HttpResponse Page(const std::string& html, unsigned version, bool keep_alive) {
  HttpResponse res{http::status::ok, version};
  res.set(http::field::content_type, "text/html; charset=utf-8");
  res.set(http::field::cache_control, "no-store");
  // Everything is inline; the page talks only to this origin; a simulator report opens in a
  // sandboxed frame (srcdoc), which inherits this policy.
  res.set("Content-Security-Policy",
          "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:; "
          "base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
  res.set("X-Content-Type-Options", "nosniff");
  res.set("Referrer-Policy", "no-referrer");  // the page may have been opened with ?token=
  res.keep_alive(keep_alive);
  res.body() = html;
  res.prepare_payload();
  return res;
}

int DecisionsParam(std::string_view target, int fallback) {
  const std::string n = QueryParam(target, "n");
  if (n.empty()) return fallback;
  return std::atoi(n.c_str());
}

}  // namespace

std::optional<HttpResponse> DashboardRoute(GatewayShared& s, const HttpRequest& req, std::string_view path) {
  Dashboard& d = *s.dashboard;
  const bool ka = req.keep_alive();
  const unsigned v = req.version();
  if (!d.guard().Allows(req.target(), req[http::field::authorization])) {
    HttpResponse res = ErrorResponse({401, "invalid_request_error",
                                      "This endpoint needs 'Authorization: Bearer <token>' (the token in the environment variable "
                                      "named by dashboard.token_env; the page also opens as /dashboard?token=<token>).",
                                      "", "invalid_api_key"},
                                     v, ka);
    res.set(http::field::www_authenticate, "Bearer realm=\"mecrouter\"");
    return res;
  }
  const bool get = req.method() == http::verb::get || req.method() == http::verb::head;
  if (!d.enabled() || !get) return std::nullopt;
  if (path == "/dashboard" || path == "/dashboard/") return Page(d.page(), v, ka);
  if (path == "/api/dashboard") {
    const std::string stats = s.stats.ToJson();
    std::string body = d.StateJson(s.parts.monitor.Current(), stats);
    if (s.keys && !body.empty() && body.back() == '}') {  // requests and spend per key name (never a key)
      body.pop_back();
      JsonWriter w(body);
      body += ",\"keys\":";
      w.BeginArray();
      for (const auto& c : s.keys->Counters())
        w.BeginObject().Field("name", c.name).Field("requests", c.requests).Field("refused", c.refused).Field("spend_usd", c.spend_usd).EndObject();
      w.EndArray();
      body += '}';
    }
    return NoStore(JsonResponse(std::move(body), v, ka));
  }
  if (path == "/api/decisions") return NoStore(JsonResponse(d.DecisionsJson(DecisionsParam(req.target(), 50)), v, ka));
  return std::nullopt;
}

}  // namespace mec::net

#pragma once
// The operator routes in front of the gateway's own (docs/dashboard.md): the bearer-token check
// for /dashboard, /api/..., /admin/... and /v1/feedback (401 in OpenAI's error format), then
// GET /dashboard (the page), GET /api/dashboard (everything it shows) and GET /api/decisions?n=N.

#include <optional>
#include <string_view>

#include "net/gateway_shared.h"
#include "net/http_server.h"

namespace mec::net {

// The response for `req` if it is the dashboard's to answer (a page, its JSON, or a 401), else
// nullopt: the gateway routes the request as usual. REQUIRES: s.dashboard is not null.
std::optional<HttpResponse> DashboardRoute(GatewayShared& s, const HttpRequest& req, std::string_view path);

}  // namespace mec::net

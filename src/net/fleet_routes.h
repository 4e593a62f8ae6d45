#pragma once
// The fleet state's publishing end (docs/fleet.md): GET /v1/fleet/state answers what this
// gateway has learned of its backends (backend/fleet_state.h, schema version 1), to callers with
// `Authorization: Bearer <the token in $fleet.token_env>`; anyone else gets 401 in OpenAI's error
// format. Built from the latest published snapshot: no lock, no I/O beyond the answer.
// GET /api/fleet (an operator endpoint) shows the pulling end's state (net/fleet_poller.h).

#include <optional>
#include <string>
#include <string_view>

#include "net/gateway_shared.h"
#include "net/http_server.h"

namespace mec::net {

inline constexpr std::string_view kFleetStatePath = "/v1/fleet/state";

// The response for `req` if `path` is one of the fleet's routes and this gateway serves it, else
// nullopt (GET /v1/fleet/state without fleet.publish is an unknown URL, as elsewhere).
std::optional<HttpResponse> FleetRoute(GatewayShared& s, const HttpRequest& req, std::string_view path);

// Prometheus text for both ends (appended to GET /metrics): the publisher's answers by result
// and, when pulling, the poller's counters and the state's age. "" when neither end is on.
std::string FleetMetricsText(const GatewayShared& s);

}  // namespace mec::net

#pragma once
// The API keys' HTTP surface (docs/security.md):
//   - the admin API, under the operator token (checked by the dashboard's AccessGuard and again
//     here): POST /admin/keys (create; the key is in the answer, once), GET /admin/keys,
//     GET /admin/keys/NAME, POST /admin/keys/NAME/revoke, POST /admin/keys/NAME/rotate,
//     GET /admin/keys-audit. With keys configured but no operator token, it answers 403: keys are
//     then managed with `mecrouter keys` only.
//   - GET /v1/usage for a key holder: its limits and what it used (in Redis when replicas share
//     limits, bounded like an admission; else this replica's counts).

#include <optional>
#include <string_view>

#include "net/gateway_shared.h"
#include "net/http_server.h"

namespace mec::net {

// The answer for `req` when `path` is under /admin/keys, else nullopt.
std::optional<HttpResponse> KeyAdminRoute(GatewayShared& s, const HttpRequest& req, std::string_view path);

// GET /v1/usage.
awaitable<HttpResponse> KeyUsageRoute(GatewayShared& s, const HttpRequest& req);

// The JSON of a key's record for the admin API and `mecrouter keys show` (never its hash or salt).
std::string KeyRecordJson(const KeyRecord& r, std::string_view key = {});

}  // namespace mec::net

#pragma once
// Bearer-token protection of the operator endpoints (config `dashboard.token_env`): when a token
// is set, GET /dashboard, /api/..., /admin/... and POST /v1/feedback need
// `Authorization: Bearer <token>`; the OpenAI endpoints, /healthz, /readyz and /metrics stay open.
// A browser cannot add a header when it opens a page, so the page itself (/dashboard only, not
// the JSON behind it) also accepts `?token=<token>`; the page then drops it from the address bar
// and sends the header on every poll.
//
// Immutable after construction: safe from any thread.

#include <string>
#include <string_view>

#include "core/status.h"

namespace mec {

class AccessGuard {
 public:
  // token "": no protection.
  explicit AccessGuard(std::string token) : token_(std::move(token)) {}

  bool enabled() const { return !token_.empty(); }
  // True for the paths a token protects (whether or not one is set).
  static bool Protects(std::string_view path);
  // True if a request for `path` may go on: no token is set, the path is not protected, the
  // Authorization header carries the token, or (path /dashboard only) the query's `token` does.
  // `target`: the request target with its query string.
  bool Allows(std::string_view target, std::string_view authorization) const;

 private:
  const std::string token_;
};

// True if `authorization` is "Bearer <token>" (scheme case-insensitive), compared in time
// independent of where the strings differ. REQUIRES: token non-empty.
bool BearerMatches(std::string_view authorization, std::string_view token);

// The percent-decoded value of `key` in the query string of `target` ("" if absent).
std::string QueryParam(std::string_view target, std::string_view key);

// True if a listen address (HOST:PORT) only accepts connections from this machine: 127.0.0.0/8,
// [::1] or localhost.
bool IsLoopbackListen(std::string_view host_port);

// The token from the environment variable `env_name`, given its value (null: unset). "" when no
// variable is configured; an error that names the key when it is configured but unset or empty.
Result<std::string> TokenFromEnv(std::string_view env_name, const char* value);

}  // namespace mec

#pragma once
// One connection to the shared-state Redis, as every state/ component opens it: the configured
// host and port, 300 ms connect and command timeouts (hiredis 0.14, blocking). With `rediss://`
// the bytes travel through a TLS tunnel (state/tls_tunnel.h: certificate verified unless
// tls_verify is false); with a password in the URL, AUTH is sent right after connecting. The
// password never appears in `error`.

#include <string>

#include "config/options.h"

struct redisContext;

namespace mec {

// A connected (and authenticated) context (the caller frees it with redisFree), or null with
// `error` set.
redisContext* ConnectRedis(const StateOptions& options, std::string& error);

}  // namespace mec

#pragma once
// One connection to the shared-state Redis, as every state/ component opens it: the configured
// host and port, 300 ms connect and command timeouts (hiredis 0.14, blocking; plaintext).

#include <string>

#include "config/options.h"

struct redisContext;

namespace mec {

// A connected context (the caller frees it with redisFree), or null with `error` set.
redisContext* ConnectRedis(const StateOptions& options, std::string& error);

}  // namespace mec

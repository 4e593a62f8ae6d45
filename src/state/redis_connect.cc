#include "state/redis_connect.h"

#include <hiredis/hiredis.h>

namespace mec {

redisContext* ConnectRedis(const StateOptions& options, std::string& error) {
  timeval tv{0, 300000};
  redisContext* c = redisConnectWithTimeout(options.redis_host.c_str(), options.redis_port, tv);
  if (!c || c->err) {
    error = c ? c->errstr : "cannot allocate a Redis context";
    if (c) redisFree(c);
    return nullptr;
  }
  redisSetTimeout(c, tv);
  return c;
}

}  // namespace mec

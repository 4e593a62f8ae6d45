#include "state/redis_connect.h"

#include <hiredis/hiredis.h>
#include <unistd.h>

#include "state/tls_tunnel.h"

namespace mec {

redisContext* ConnectRedis(const StateOptions& options, std::string& error) {
  constexpr int kTimeoutMs = 300;
  const timeval tv{0, kTimeoutMs * 1000};
  redisContext* c = nullptr;
  if (options.redis_tls) {
    const int fd = OpenTlsTunnel({options.redis_host, options.redis_port, options.tls_ca_file, options.tls_verify, kTimeoutMs}, error);
    if (fd < 0) return nullptr;
    c = redisConnectFd(fd);
    if (!c) close(fd);
  } else {
    c = redisConnectWithTimeout(options.redis_host.c_str(), options.redis_port, tv);
  }
  if (!c || c->err) {
    error = c ? c->errstr : "cannot allocate a Redis context";
    if (c) redisFree(c);
    return nullptr;
  }
  redisSetTimeout(c, tv);
  if (!options.redis_password.empty()) {
    const std::string& user = options.redis_user;
    const std::string& pass = options.redis_password;
    auto* reply = static_cast<redisReply*>(user.empty() ? redisCommand(c, "AUTH %b", pass.data(), pass.size())
                                                        : redisCommand(c, "AUTH %b %b", user.data(), user.size(), pass.data(), pass.size()));
    // Redis's own error text never repeats the password ("WRONGPASS invalid username-password pair ...").
    if (!reply || reply->type == REDIS_REPLY_ERROR) {
      error = "Redis AUTH failed: " + (reply ? std::string(reply->str, reply->len) : std::string(c->errstr));
      if (reply) freeReplyObject(reply);
      redisFree(c);
      return nullptr;
    }
    freeReplyObject(reply);
  }
  return c;
}

}  // namespace mec

#include "cli/open_file_limit.h"

#include <sys/resource.h>

#include <fmt/format.h>

namespace mec::cli {

OpenFileLimit RaiseOpenFileLimit() {
  OpenFileLimit out;
  rlimit r{};
  if (getrlimit(RLIMIT_NOFILE, &r) != 0) return out;
  out.now = r.rlim_cur == RLIM_INFINITY ? -1 : static_cast<long long>(r.rlim_cur);
  out.hard = r.rlim_max == RLIM_INFINITY ? -1 : static_cast<long long>(r.rlim_max);
  if (r.rlim_cur == r.rlim_max) return out;
  rlimit want = r;
  want.rlim_cur = r.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &want) == 0) out.now = out.hard;
  return out;
}

std::string OpenFileLimitWarning(const OpenFileLimit& limit, long long max_connections, long long reserve) {
  if (limit.now < 0 || limit.now >= max_connections + reserve) return "";
  return fmt::format(
      "mecrouter: warning: the open-file limit is {} (hard limit {}), below server.max_connections ({}) plus ~{} for "
      "upstream connections and files: connections past it wait until one closes (raise it: ulimit -n, or LimitNOFILE= "
      "in a systemd unit)",
      limit.now, limit.hard, max_connections, reserve);
}

}  // namespace mec::cli

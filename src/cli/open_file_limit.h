#pragma once
// The process's open-file limit (RLIMIT_NOFILE). A fresh Debian gives a soft limit of 1,024 under
// a hard one of ~500,000 or more; a gateway holds one descriptor per client connection and per
// pooled upstream connection, so serve and emulate raise the soft limit to the hard one at start
// (as nginx's worker_rlimit_nofile and Go's runtime do).

#include <string>

namespace mec::cli {

struct OpenFileLimit {
  long long now = 0;   // the soft limit after raising it (as found when it could not be raised); -1: none
  long long hard = 0;  // -1: none
};

// Raises the soft limit to the hard one (no privilege needed). Never fails: on an error `now` is
// the limit found.
OpenFileLimit RaiseOpenFileLimit();

// "" when `limit.now` leaves room for `max_connections` client connections and `reserve` other
// descriptors; else a one-line warning for the log.
std::string OpenFileLimitWarning(const OpenFileLimit& limit, long long max_connections, long long reserve);

}  // namespace mec::cli

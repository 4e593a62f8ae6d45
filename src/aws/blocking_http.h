#pragma once
// One blocking HTTP/1.1 exchange per call, for the background work of aws/ (credentials from the
// container endpoint, S3 PUTs): a fresh connection (`Connection: close`), the whole response read
// into memory, one deadline for everything. https goes through state/tls_tunnel.h (OpenSSL,
// certificate and host name verified against the system store). Never on the request path: the
// calling thread blocks (DNS included) for up to `timeout_ms`.
//
// Thread-safety: every function may be called from any thread.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace mec::aws {

struct HttpUrl {
  bool tls = false;
  std::string host;    // a name or an IP literal (IPv6 without brackets)
  int port = 80;
  std::string target;  // path and query, "/" at least
};
// "http://host[:port][/path]" or "https://...".
Result<HttpUrl> ParseHttpUrl(std::string_view url);
// The Host header for `url`: the host, with ":port" unless it is the scheme's default.
std::string HostHeader(const HttpUrl& url);

struct HttpExchange {
  std::string method = "GET";
  HttpUrl url;
  std::vector<std::pair<std::string, std::string>> headers;  // Host, Content-Length and Connection are added
  std::string body;
  int timeout_ms = 10000;  // DNS + connect (+ TLS handshake) + send + the whole response
};

struct HttpReply {
  int status = 0;     // 0: no response; `error` says why
  std::string error;  // "connect to HOST:PORT: Connection refused", "timed out", ...
  std::string body;
};

HttpReply BlockingHttp(const HttpExchange& exchange);

}  // namespace mec::aws

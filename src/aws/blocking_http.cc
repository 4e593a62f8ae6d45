#include "aws/blocking_http.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "core/ascii.h"
#include "state/tls_tunnel.h"

namespace mec::aws {

namespace {

using SteadyClock = std::chrono::steady_clock;
constexpr size_t kMaxReply = 1 << 20;

int MillisLeft(SteadyClock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now()).count();
  return left < 0 ? 0 : static_cast<int>(left);
}

// Waits for `events` on fd until the deadline; false on timeout.
bool Wait(int fd, short events, SteadyClock::time_point deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    const int n = poll(&p, 1, MillisLeft(deadline));
    if (n > 0) return true;
    if (n == 0) return false;
    if (errno != EINTR) return false;
  }
}

// A TCP connection to host:port (non-blocking connect, then left non-blocking), or -1.
int ConnectTcp(const HttpUrl& url, SteadyClock::time_point deadline, std::string& error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  const std::string port = std::to_string(url.port);
  if (int rc = getaddrinfo(url.host.c_str(), port.c_str(), &hints, &res); rc != 0) {
    error = "cannot resolve " + url.host + ": " + gai_strerror(rc);
    return -1;
  }
  int fd = -1;
  for (addrinfo* a = res; a; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
    if (fd < 0) continue;
    int rc = connect(fd, a->ai_addr, a->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      if (!Wait(fd, POLLOUT, deadline)) {
        error = "connect to " + url.host + ":" + port + ": timed out";
        close(fd);
        fd = -1;
        break;
      }
      int err = 0;
      socklen_t len = sizeof err;
      getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      rc = err ? -1 : 0;
      errno = err;
    }
    if (rc == 0) break;
    error = "connect to " + url.host + ":" + port + ": " + std::strerror(errno);
    close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  return fd;
}

bool SendAll(int fd, std::string_view data, SteadyClock::time_point deadline, std::string& error) {
  while (!data.empty()) {
    const ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
      if (!Wait(fd, POLLOUT, deadline)) {
        error = "send: timed out";
        return false;
      }
      continue;
    }
    error = std::string("send: ") + std::strerror(errno);
    return false;
  }
  return true;
}

// The body of a chunked message, or false when `raw` is not (yet) a whole one.
bool Unchunk(std::string_view raw, std::string& out) {
  out.clear();
  for (;;) {
    const size_t eol = raw.find("\r\n");
    if (eol == std::string_view::npos) return false;
    size_t size = 0;
    try {
      size = std::stoul(std::string(raw.substr(0, eol)), nullptr, 16);
    } catch (...) {
      return false;
    }
    raw.remove_prefix(eol + 2);
    if (size == 0) return true;
    if (raw.size() < size + 2) return false;
    out.append(raw.substr(0, size));
    raw.remove_prefix(size + 2);
  }
}

// Parses what was received; true when the response is complete (or cannot grow any more: `eof`).
bool ParseResponse(const std::string& in, bool eof, HttpReply& reply) {
  const size_t end = in.find("\r\n\r\n");
  if (end == std::string::npos) return false;
  const std::string_view head(in.data(), end);
  // "HTTP/1.1 200 OK"
  const size_t sp = head.find(' ');
  if (sp == std::string_view::npos || head.size() < sp + 4) return false;
  int status = 0;
  for (size_t i = sp + 1; i < sp + 4; ++i) {
    if (head[i] < '0' || head[i] > '9') return false;
    status = status * 10 + (head[i] - '0');
  }
  long long content_length = -1;
  bool chunked = false;
  size_t pos = head.find("\r\n");
  while (pos != std::string_view::npos) {
    const size_t next = head.find("\r\n", pos + 2);
    const std::string_view line = head.substr(pos + 2, next == std::string_view::npos ? std::string_view::npos : next - pos - 2);
    const size_t colon = line.find(':');
    if (colon != std::string_view::npos) {
      const std::string name = AsciiLower(line.substr(0, colon));
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      if (name == "content-length") content_length = std::atoll(std::string(value).c_str());
      if (name == "transfer-encoding" && AsciiLower(value).find("chunked") != std::string::npos) chunked = true;
    }
    pos = next;
  }
  const std::string_view body(in.data() + end + 4, in.size() - end - 4);
  if (chunked) {
    if (!Unchunk(body, reply.body) && !eof) return false;
  } else if (content_length >= 0) {
    if (body.size() < static_cast<size_t>(content_length) && !eof) return false;
    reply.body = std::string(body.substr(0, static_cast<size_t>(content_length)));
  } else {
    if (!eof) return false;
    reply.body = std::string(body);
  }
  reply.status = status;
  return true;
}

}  // namespace

Result<HttpUrl> ParseHttpUrl(std::string_view url) {
  HttpUrl u;
  std::string_view rest;
  if (url.starts_with("http://")) {
    rest = url.substr(7);
  } else if (url.starts_with("https://")) {
    u.tls = true;
    u.port = 443;
    rest = url.substr(8);
  } else {
    return Status::InvalidArgument("'" + std::string(url) + "': not an http:// or https:// URL");
  }
  const size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  u.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (authority.starts_with('[')) {  // [::1]:8080
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return Status::InvalidArgument("'" + std::string(url) + "': unterminated IPv6 address");
    u.host = std::string(authority.substr(1, close - 1));
    authority.remove_prefix(close + 1);
    if (!authority.empty() && authority.front() != ':') return Status::InvalidArgument("'" + std::string(url) + "': bad authority");
  } else {
    const size_t colon = authority.find(':');
    u.host = std::string(authority.substr(0, colon));
    authority = colon == std::string_view::npos ? std::string_view() : authority.substr(colon);
  }
  if (!authority.empty()) {  // ":port"
    const std::string port(authority.substr(1));
    char* end = nullptr;
    const long p = std::strtol(port.c_str(), &end, 10);
    if (port.empty() || *end || p < 1 || p > 65535) return Status::InvalidArgument("'" + std::string(url) + "': bad port");
    u.port = static_cast<int>(p);
  }
  if (u.host.empty()) return Status::InvalidArgument("'" + std::string(url) + "': no host");
  return u;
}

std::string HostHeader(const HttpUrl& url) {
  const bool v6 = url.host.find(':') != std::string::npos;
  std::string h = v6 ? "[" + url.host + "]" : url.host;
  if (url.port != (url.tls ? 443 : 80)) h += ":" + std::to_string(url.port);
  return h;
}

HttpReply BlockingHttp(const HttpExchange& x) {
  HttpReply reply;
  const auto deadline = SteadyClock::now() + std::chrono::milliseconds(x.timeout_ms);
  int fd = -1;
  if (x.url.tls) {
    TlsTunnelOptions t;
    t.host = x.url.host;
    t.port = x.url.port;
    t.timeout_ms = x.timeout_ms;
    fd = OpenTlsTunnel(t, reply.error);
    if (fd >= 0) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  } else {
    fd = ConnectTcp(x.url, deadline, reply.error);
  }
  if (fd < 0) return reply;
  std::string request = x.method + " " + x.url.target + " HTTP/1.1\r\nHost: " + HostHeader(x.url) + "\r\n";
  for (const auto& [k, v] : x.headers) request += k + ": " + v + "\r\n";
  if (!x.body.empty() || x.method == "PUT" || x.method == "POST") request += "Content-Length: " + std::to_string(x.body.size()) + "\r\n";
  request += "Connection: close\r\n\r\n";
  request += x.body;
  if (!SendAll(fd, request, deadline, reply.error)) {
    close(fd);
    return reply;
  }
  std::string in;
  char buf[16384];
  for (;;) {
    const ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n > 0) {
      in.append(buf, static_cast<size_t>(n));
      if (in.size() > kMaxReply) {
        reply.error = "response larger than 1 MiB";
        break;
      }
      if (ParseResponse(in, false, reply)) break;
      continue;
    }
    if (n == 0) {
      if (!ParseResponse(in, true, reply)) reply.error = in.empty() ? "connection closed before a response" : "truncated response";
      break;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
      if (!Wait(fd, POLLIN, deadline)) {
        reply.error = "response: timed out";
        break;
      }
      continue;
    }
    reply.error = std::string("receive: ") + std::strerror(errno);
    break;
  }
  close(fd);
  if (!reply.error.empty()) reply.status = 0;
  return reply;
}

}  // namespace mec::aws

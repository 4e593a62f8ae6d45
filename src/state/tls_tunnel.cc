#include "state/tls_tunnel.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <future>
#include <memory>
#include <thread>

namespace mec {
namespace {

// OpenSSL's queued errors of this thread, as one line (and the queue emptied).
std::string SslErrors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out;
}

bool IsIpLiteral(const std::string& host) {
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

// Waits until fd is ready for `events` or the deadline passes; false on timeout or error.
bool WaitFor(int fd, short events, std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) return false;
    pollfd p{fd, events, 0};
    const int n = poll(&p, 1, static_cast<int>(left));
    if (n > 0) return true;
    if (n < 0 && errno != EINTR) return false;
  }
}

// One tunnel: the TCP socket, its TLS connection and the tunnel's end of the socketpair. Owned by
// its thread; everything is closed when it goes.
class Tunnel {
 public:
  Tunnel(TlsTunnelOptions options, int local) : o_(std::move(options)), local_(local) {}
  ~Tunnel() {
    if (ssl_) {
      if (handshaken_) SSL_shutdown(ssl_);  // one attempt at close_notify, never waited for
      SSL_free(ssl_);
    }
    if (ctx_) SSL_CTX_free(ctx_);
    if (tcp_ >= 0) close(tcp_);
    close(local_);
  }
  Tunnel(const Tunnel&) = delete;
  Tunnel& operator=(const Tunnel&) = delete;

  // TCP connect and TLS handshake; "" or the reason it failed.
  std::string Open() {
    const std::string where = o_.host + ":" + std::to_string(o_.port);
    if (std::string e = ConnectTcp(where); !e.empty()) return e;
    ctx_ = SSL_CTX_new(TLS_client_method());
    if (!ctx_) return "cannot create a TLS context: " + SslErrors();
    SSL_CTX_set_min_proto_version(ctx_, TLS1_2_VERSION);
    if (o_.verify) {
      SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
      SSL_CTX_set_default_verify_paths(ctx_);
      if (!o_.ca_file.empty() && SSL_CTX_load_verify_locations(ctx_, o_.ca_file.c_str(), nullptr) != 1)
        return "cannot load state.tls_ca_file " + o_.ca_file + ": " + SslErrors();
    } else {
      SSL_CTX_set_verify(ctx_, SSL_VERIFY_NONE, nullptr);
    }
    ssl_ = SSL_new(ctx_);
    if (!ssl_ || SSL_set_fd(ssl_, tcp_) != 1) return "cannot create a TLS connection: " + SslErrors();
    SSL_set_mode(ssl_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    const bool ip = IsIpLiteral(o_.host);
    if (!ip) SSL_set_tlsext_host_name(ssl_, o_.host.c_str());
    if (o_.verify) {
      const int ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), o_.host.c_str()) : SSL_set1_host(ssl_, o_.host.c_str());
      if (ok != 1) return "TLS handshake with " + where + " failed: cannot check the name " + o_.host;
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(o_.timeout_ms);
    for (;;) {
      ERR_clear_error();
      errno = 0;
      const int r = SSL_connect(ssl_);
      if (r == 1) break;
      const int e = SSL_get_error(ssl_, r);
      if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        if (!WaitFor(tcp_, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline))
          return "TLS handshake with " + where + " failed: timed out after " + std::to_string(o_.timeout_ms) + " ms";
        continue;
      }
      std::string why;
      if (const long v = SSL_get_verify_result(ssl_); o_.verify && v != X509_V_OK)
        why = std::string("certificate verify failed (") + X509_verify_cert_error_string(v) + ")";
      else if (std::string s = SslErrors(); !s.empty())
        why = s;
      else
        why = errno ? std::strerror(errno) : "the server closed the connection";
      return "TLS handshake with " + where + " failed: " + why;
    }
    handshaken_ = true;
    return "";
  }

  // Copies bytes both ways until either side closes or fails. True when the server's side ended
  // first (then what the server sent is still in `down_`).
  bool Pump() {
    constexpr size_t kCap = 256 << 10;  // bytes held per direction before that side is read again
    std::string up;                     // hiredis -> server
    std::string& down = down_;          // server -> hiredis
    char buf[16384];
    for (;;) {
      bool tls_wants_read = false, tls_wants_write = false;
      for (bool progress = true; progress;) {
        progress = false;
        tls_wants_read = tls_wants_write = false;
        auto blocked = [&](int r) {  // false: the TLS connection is over
          const int e = SSL_get_error(ssl_, r);
          if (e == SSL_ERROR_WANT_READ) return tls_wants_read = true;
          if (e == SSL_ERROR_WANT_WRITE) return tls_wants_write = true;
          return false;
        };
        if (up.size() < kCap) {
          const ssize_t n = recv(local_, buf, sizeof buf, 0);
          if (n == 0) return false;  // the caller closed its end
          if (n > 0) {
            up.append(buf, static_cast<size_t>(n));
            progress = true;
          } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            return false;
          }
        }
        if (!up.empty()) {
          ERR_clear_error();
          const int r = SSL_write(ssl_, up.data(), static_cast<int>(std::min(up.size(), sizeof buf)));
          if (r > 0) {
            up.erase(0, static_cast<size_t>(r));
            progress = true;
          } else if (!blocked(r)) {
            return true;
          }
        }
        if (down.size() < kCap) {
          ERR_clear_error();
          const int r = SSL_read(ssl_, buf, sizeof buf);
          if (r > 0) {
            down.append(buf, static_cast<size_t>(r));
            progress = true;
          } else if (!blocked(r)) {
            return true;  // close_notify, reset or error
          }
        }
        if (!down.empty()) {
          const ssize_t n = send(local_, down.data(), down.size(), MSG_NOSIGNAL);
          if (n > 0) {
            down.erase(0, static_cast<size_t>(n));
            progress = true;
          } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            return false;
          }
        }
      }
      // Nothing moves: wait. A hang-up on either socket is reported whatever the events asked.
      pollfd p[2] = {{local_, static_cast<short>((up.size() < kCap ? POLLIN : 0) | (down.empty() ? 0 : POLLOUT)), 0},
                     {tcp_, static_cast<short>((tls_wants_read ? POLLIN : 0) | (tls_wants_write ? POLLOUT : 0)), 0}};
      if (poll(p, 2, -1) < 0 && errno != EINTR) return false;
      if (p[0].revents & (POLLHUP | POLLERR | POLLNVAL)) return false;
      if ((p[1].revents & (POLLHUP | POLLERR | POLLNVAL)) && !(p[1].revents & POLLIN)) return true;
    }
  }

  // After the server's side ended: what it sent reaches the caller, then the caller reads end of
  // file, as from a TCP peer that closed. The caller's end stays open (what it writes is
  // discarded) until it closes it: writing to a closed socketpair would raise SIGPIPE in the
  // caller's thread.
  void EndTowardsCaller() {
    while (!down_.empty()) {
      const ssize_t n = send(local_, down_.data(), down_.size(), MSG_NOSIGNAL);
      if (n > 0) {
        down_.erase(0, static_cast<size_t>(n));
        continue;
      }
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return;
      pollfd p{local_, POLLOUT, 0};
      if (poll(&p, 1, -1) < 0 && errno != EINTR) return;
      if (p.revents & (POLLHUP | POLLERR | POLLNVAL)) return;
    }
    shutdown(local_, SHUT_WR);
    char buf[4096];
    for (;;) {
      const ssize_t n = recv(local_, buf, sizeof buf, 0);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) return;
      if (n > 0) continue;
      pollfd p{local_, POLLIN, 0};
      if (poll(&p, 1, -1) < 0 && errno != EINTR) return;
    }
  }


 private:
  std::string ConnectTcp(const std::string& where) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    if (int e = getaddrinfo(o_.host.c_str(), std::to_string(o_.port).c_str(), &hints, &res); e != 0)
      return "cannot resolve " + o_.host + ": " + gai_strerror(e);
    std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> list(res, freeaddrinfo);
    std::string why = "no address";
    for (addrinfo* a = res; a; a = a->ai_next) {
      const int fd = socket(a->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (fd < 0) {
        why = std::strerror(errno);
        continue;
      }
      int r = connect(fd, a->ai_addr, a->ai_addrlen);
      if (r != 0 && errno == EINPROGRESS) {
        if (!WaitFor(fd, POLLOUT, std::chrono::steady_clock::now() + std::chrono::milliseconds(o_.timeout_ms))) {
          why = "timed out after " + std::to_string(o_.timeout_ms) + " ms";
          close(fd);
          continue;
        }
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        errno = err;
        r = err ? -1 : 0;
      }
      if (r != 0) {
        why = std::strerror(errno);
        close(fd);
        continue;
      }
      const int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // as hiredis does
      tcp_ = fd;
      return "";
    }
    return "cannot connect to " + where + ": " + why;
  }

  const TlsTunnelOptions o_;
  const int local_;  // the tunnel's end of the socketpair (non-blocking)
  int tcp_ = -1;     // non-blocking
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  bool handshaken_ = false;
  std::string down_;  // server -> caller, not yet delivered
};

void Run(std::unique_ptr<Tunnel> tunnel, std::promise<std::string> opened) {
  sigset_t pipe;
  sigemptyset(&pipe);
  sigaddset(&pipe, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe, nullptr);  // OpenSSL writes with write(): EPIPE, not a signal
  std::string error = tunnel->Open();
  const bool ok = error.empty();
  opened.set_value(std::move(error));
  if (ok && tunnel->Pump()) tunnel->EndTowardsCaller();
}

}  // namespace

int OpenTlsTunnel(const TlsTunnelOptions& options, std::string& error) {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    error = std::string("socketpair: ") + std::strerror(errno);
    return -1;
  }
  fcntl(fds[1], F_SETFL, fcntl(fds[1], F_GETFL) | O_NONBLOCK);
  auto tunnel = std::make_unique<Tunnel>(options, fds[1]);  // owns fds[1] from here
  std::promise<std::string> opened;
  std::future<std::string> result = opened.get_future();
  try {
    std::thread(Run, std::move(tunnel), std::move(opened)).detach();
  } catch (const std::system_error& e) {
    error = std::string("cannot start the TLS thread: ") + e.what();
    close(fds[0]);
    return -1;
  }
  error = result.get();  // bounded: resolve, then twice timeout_ms
  if (!error.empty()) {
    close(fds[0]);
    return -1;
  }
  return fds[0];
}

}  // namespace mec

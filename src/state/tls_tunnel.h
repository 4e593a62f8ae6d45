#pragma once
// TLS to Redis for hiredis 0.14, which has none (DESIGN.md §7): a TLS client connection (OpenSSL)
// behind one end of a local socketpair, so that hiredis's blocking API works unchanged on the
// other end (redisConnectFd).
//
// OpenTlsTunnel connects to host:port over TCP and completes the TLS handshake before it returns:
// the server's certificate is verified against the system CA store plus `ca_file` (when set), for
// the name `host` (a DNS name, or an IP address matched against the certificate's IP SANs); SNI
// is `host` unless it is an IP literal (RFC 6066 forbids those). With verify false nothing is
// checked (the caller warns). It returns the caller's end of the socketpair (blocking, close-on-exec):
// what is written to it is sent over TLS, what the server sends is read from it.
//
// One thread of its own per tunnel (detached) does the connect and handshake, then copies bytes
// both ways with poll() and ends, closing the TLS connection, when the caller closes its end
// (redisFree) or the server closes or fails (the caller then reads end of file). It never blocks
// on one side while the other has closed, and SIGPIPE is blocked on it. Cost: that thread and a
// loopback hop per connection (docs/replicas.md measures it).

#include <string>

namespace mec {

struct TlsTunnelOptions {
  std::string host;
  int port = 6379;
  std::string ca_file;        // extra CA bundle (PEM); empty: the system store only
  bool verify = true;         // false: no certificate or name check at all
  int timeout_ms = 300;       // for the TCP connect, and again for the handshake
};

// The caller's file descriptor (it closes it, e.g. through redisFree), or -1 with `error` set:
// "cannot resolve ...", "cannot connect to HOST:PORT: ...", "TLS handshake with HOST:PORT failed:
// certificate verify failed (...)", "... failed: <OpenSSL's reason>", "... timed out".
int OpenTlsTunnel(const TlsTunnelOptions& options, std::string& error);

}  // namespace mec

#pragma once
// A small HTTP/1.1 client for tools that drive a server from the same process (`mecrouter demo`):
// one io_context on its own threads, one fresh connection per call, a whole response read into
// memory (chunked or not), one deadline per call. Not for the request path (the gateway's upstream
// side is upstream_client.h, with pooling, TLS and streaming).
//
// Thread-safety: Send and Fetch may be called from any thread. Keeps Asio and Beast out of its
// header so that callers outside net/ need not compile them.

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.h"

namespace mec::net {

struct ClientCall {
  std::string method = "POST";
  std::string target;  // e.g. "/v1/chat/completions"
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;    // sent with Content-Type: application/json when non-empty
  Duration timeout = FromSeconds(60);  // connect + send + the whole response
  // Optional: runs once, on a client thread, when the first bytes of the response body arrive
  // (a stream's first event: the caller's time to first token). It must not block.
  std::function<void()> on_first_body;
};

struct ClientReply {
  int status = 0;       // 0: no response; `error` says why
  std::string error;    // transport failure: connect refused, timed out, connection reset, ...
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // The first header of that name (case-insensitive), or "".
  std::string_view Header(std::string_view name) const;
};

class HttpClient {
 public:
  // `host` is an IP address (no DNS), `port` its port. Starts `threads` threads.
  HttpClient(std::string host, int port, int threads = 1);
  // Waits for the calls in flight, then stops the threads.
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Starts `call`; `done` runs exactly once, on a client thread, with the reply. It must not block.
  void Send(ClientCall call, std::function<void(ClientReply)> done);
  // Send and wait for the reply.
  ClientReply Fetch(ClientCall call);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mec::net

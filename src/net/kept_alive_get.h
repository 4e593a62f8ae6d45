#pragma once
// One kept-alive connection to one backend's host that sends GETs and reads whole answers, plain
// or TLS (the backend's tls_verify and CA), each GET within one deadline. Used by the health
// prober (health_prober.h) and the engine poller (engine_poller.h), off the request path.
//
// A kept-alive connection the server closed since the last GET is retried once on a fresh one.
// Threading: one coroutine at a time uses it (no two Gets in flight); Abort() may be called on
// its executor while a Get is pending, which then fails soon after.

#include <optional>
#include <string>

#include "core/clock.h"
#include "net/upstream_client.h"

namespace mec::net {

struct GetReply {
  int status = 0;                    // HTTP status; 0 when no response head arrived
  std::string body;                  // the whole body, up to the body limit
  TimePoint sent{}, head_at{};       // when the request went out and its response head came back
  std::optional<std::string> error;  // why no whole answer arrived, one line
  bool timed_out = false;            // the deadline passed
};

class KeptAliveGet {
 public:
  // `pools` gives the backend's host, TLS context and resolution cache; `label` names the caller
  // in User-Agent (e.g. "health-check"). REQUIRES: pools outlives this.
  KeptAliveGet(UpstreamPools& pools, int backend, std::string label, size_t max_body);

  // GET `target` (a path from the host's root) with the backend's credential header, whole answer
  // within `timeout`. Never throws for network errors (they go into the reply).
  awaitable<GetReply> Get(const std::string& target, std::chrono::milliseconds timeout, std::string_view accept);

  // Closes the socket; a pending operation completes with an error. Safe while one is pending.
  void Abort();
  // Abort(), and no retry on a fresh connection in the Get it interrupts (shutting down).
  void Cancel() {
    cancelled_ = true;
    Abort();
  }
  // Forgets the connection. REQUIRES: no operation pending on it.
  void Reset();

 private:
  beast::tcp_stream& lowest() { return tls_ ? beast::get_lowest_layer(*tls_) : *plain_; }
  awaitable<std::optional<std::string>> Connect(std::chrono::steady_clock::duration budget, int64_t timeout_ms);
  template <typename Stream>
  awaitable<std::optional<std::string>> Exchange(Stream& s, const http::request<http::empty_body>& req,
                                                 TimePoint deadline, GetReply& reply, bool& keep_alive);
  std::chrono::steady_clock::duration Remaining(TimePoint deadline) const;

  UpstreamPools& pools_;
  const int backend_;
  const std::string user_agent_;
  const size_t max_body_;
  std::optional<beast::tcp_stream> plain_;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls_;
  beast::flat_buffer buf_;
  bool connected_ = false;
  bool cancelled_ = false;
};

}  // namespace mec::net

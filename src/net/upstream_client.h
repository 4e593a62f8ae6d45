#pragma once
// The upstream side: async HTTP/1.1 to OpenAI-compatible backends, plain or HTTPS (OpenSSL,
// certificates verified by default), with keep-alive connection pools per backend and the
// connect / first-byte / idle / total timeouts of BackendOptions. One UpstreamPools per worker
// (not thread-safe; the worker's thread only).

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/ssl.hpp>
#include <boost/beast/ssl.hpp>

#include "backend/backend.h"
#include "core/clock.h"
#include "gateway/failover_machine.h"
#include "net/answer_parser.h"
#include "net/http_server.h"

namespace mec::net {

struct ParsedUrl {
  bool tls = false;
  std::string host;
  std::string port;
  std::string base_path;  // e.g. "/v1" (no trailing slash)
};
Result<ParsedUrl> ParseUrl(const std::string& url);

struct UpstreamConn;  // one pooled connection (plain or TLS)

class UpstreamPools {
 public:
  UpstreamPools(asio::io_context& ioc, const Clock& clock, const std::vector<BackendOptions>& backends);
  ~UpstreamPools();

  asio::io_context& ioc() { return ioc_; }
  const Clock& clock() const { return clock_; }
  // An idle connection to backend i, or nullptr.
  std::shared_ptr<UpstreamConn> TakeIdle(int backend);
  void GiveBack(int backend, std::shared_ptr<UpstreamConn> c);
  const ParsedUrl& url(int backend) const { return urls_[backend]; }
  const BackendOptions& options(int backend) const { return backends_[backend]; }
  asio::ssl::context& ssl(int backend) { return *ssl_[backend]; }  // REQUIRES: an https backend
  // Credential header value for backend i ("" when none); read once from the environment.
  const std::string& auth_value(int backend) const { return auth_[backend]; }
  // Cached resolution of the backend's host.
  std::optional<tcp::resolver::results_type>& resolved(int backend) { return resolved_[backend]; }

 private:
  asio::io_context& ioc_;
  const Clock& clock_;
  std::vector<BackendOptions> backends_;
  std::vector<ParsedUrl> urls_;
  std::vector<std::shared_ptr<asio::ssl::context>> ssl_;  // null for http:// backends
  std::vector<std::string> auth_;
  std::vector<std::optional<tcp::resolver::results_type>> resolved_;
  std::vector<std::vector<std::shared_ptr<UpstreamConn>>> idle_;
};

// One attempt against one backend: Start() sends the request and waits for the response head,
// then ReadSome() returns body bytes as they arrive. Cancel() closes the connection at once (the
// client went away). The connection goes back to the pool only if the response was read to its end.
class UpstreamCall {
 public:
  UpstreamCall(UpstreamPools& pools, int backend);
  ~UpstreamCall();

  // Sends `body` as POST base_path + path. Returns the failure if no response head arrived within
  // first_byte_ms + `generation` (a whole answer's head comes only after its last token: the caller
  // passes the time generating it may take; zero for streams), never beyond total_ms.
  // `headers` (may be null): more request headers, e.g. X-Request-Id and traceparent.
  awaitable<std::optional<AttemptFailure>> Start(std::string_view path, std::string body, bool stream,
                                                 std::chrono::milliseconds generation = std::chrono::milliseconds(0),
                                                 const std::vector<std::pair<std::string, std::string>>* headers = nullptr);
  int status() const { return status_; }
  std::string_view header(http::field f) const;  // Content-Type or Retry-After (AnswerParser keeps no other)
  // Next body bytes. Empty with done() == true at the end; a failure if the stream broke.
  struct Piece {
    std::string_view data;
    std::optional<std::string> error;  // set when the body failed mid-way
  };
  awaitable<Piece> ReadSome();
  bool done() const { return done_; }
  void Cancel();

 private:
  template <typename Stream>
  awaitable<std::optional<AttemptFailure>> Exchange(Stream& s, const std::string& wire);  // head and body
  template <typename Stream>
  awaitable<beast::error_code> Feed(Stream& s, bool until_head);
  awaitable<std::optional<AttemptFailure>> Connect();
  void ArmWithin(int64_t ms);  // the connection's deadline: `ms` from now, never past deadline_

  UpstreamPools& pools_;
  int backend_;
  std::shared_ptr<UpstreamConn> conn_;  // shared with its deadline timer's pending wait
  std::optional<AnswerParser> parser_;
  int status_ = 0;
  bool done_ = false;
  bool cancelled_ = false;
  TimePoint deadline_{};
  std::chrono::milliseconds generation_{0};  // added to first_byte_ms for the response head (Start)
  char chunk_[16384];
};

}  // namespace mec::net

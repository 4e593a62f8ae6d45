#pragma once
// The HTTP/1.1 server under both the gateway and the emulator (Boost.Beast, C++20 coroutines).
//
// Threads: one io_context per worker thread, each with its own SO_REUSEPORT acceptor on the same
// port (see docs/benchmarks.md for the measurement behind this choice). A connection lives on one
// worker for its whole life, so a worker's state (upstream pools, handler) needs no locks.
//
// Per connection: one coroutine reads a request (header and body timeouts -> 408, header limits
// -> 431, body limit -> 413, malformed -> 400), hands it to the worker's Handler, and loops while
// keep-alive. While a handler runs, the socket is watched (a readiness wait per connection, kept
// across requests; TLS: a reading coroutine): if the client disconnects, the ClientChannel runs
// its OnGone hooks at once (the gateway cancels its upstream call there).
// Exceptions never leave a connection coroutine.

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "api/error.h"
#include "config/options.h"
#include "core/status.h"
#include "net/as_tuple.h"

namespace boost::asio::ssl {
class context;
}

namespace mec::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
template <typename T>
using awaitable = asio::awaitable<T>;
using HttpRequest = http::request<http::string_body>;
using HttpResponse = http::response<http::string_body>;

// `res` marked Cache-Control: no-store (answers about keys, decisions and live state).
inline HttpResponse NoStore(HttpResponse res) {
  res.set(http::field::cache_control, "no-store");
  return res;
}

// The response side of one request, as the handler sees it. Not thread-safe (one worker).
class ClientChannel {
 public:
  virtual ~ClientChannel() = default;
  // Sends a complete response. Returns false if the client is gone or the write failed.
  // `extra_fields`: more header lines ("Name: value\r\n" each, net/wire_format.h HeaderLines),
  // written after the response's own fields.
  virtual awaitable<bool> Send(HttpResponse res, std::string_view extra_fields = {}) = 0;
  // Starts a chunked response with `head`'s status and headers, then WriteChunk()s, then End().
  virtual awaitable<bool> BeginStream(http::response<http::empty_body> head, std::string_view extra_fields = {}) = 0;
  virtual awaitable<bool> WriteChunk(std::string_view data) = 0;
  virtual awaitable<bool> EndStream() = 0;
  // Closes the connection abruptly without finishing the response (emulated crashes).
  virtual void Abort() = 0;
  // True once the client has disconnected (or a write to it failed).
  virtual bool gone() const = 0;
  // Runs `hook` once when the client disconnects (at once if it already has).
  virtual void OnGone(std::function<void()> hook) = 0;
  // True once the response head has been sent (a byte reached the client).
  virtual bool started() const = 0;
};

// Made by the server's HandlerFactory, owned by shared_ptr: work a request leaves running after its
// Handle returns (a hedge's losing attempt winding down) holds shared_from_this(), so a handler
// replaced by a reload (HttpServer::ReplaceHandlers) lives until that work ends too.
class Handler : public std::enable_shared_from_this<Handler> {
 public:
  virtual ~Handler() = default;
  // Handles one request. Must answer through `ch` exactly once (or Abort). Must not throw.
  virtual awaitable<void> Handle(HttpRequest& req, ClientChannel& ch) = 0;
};

// An OpenAI-format error response.
HttpResponse ErrorResponse(const ApiError& e, unsigned version, bool keep_alive);
// A 415 unless `content_type` is application/json (parameters such as charset allowed, any
// case) or absent: bodies of JSON endpoints are parsed only when they say they are JSON.
std::optional<ApiError> CheckJsonContentType(std::string_view content_type);
// A JSON response with status 200 unless given.
HttpResponse JsonResponse(std::string body, unsigned version, bool keep_alive, http::status s = http::status::ok);

class HttpServer {
 public:
  using HandlerFactory = std::function<std::shared_ptr<Handler>(int worker, asio::io_context& ioc)>;

  HttpServer(ServerOptions options, HandlerFactory factory);
  ~HttpServer();

  // Binds the listening sockets. Port 0 picks a free port (see port()).
  Status Listen();
  int port() const { return port_; }
  std::string address() const;
  // Starts the worker threads. REQUIRES: Listen() succeeded.
  void Start();
  // Graceful stop: stop accepting, close idle connections, let requests in flight finish for up to
  // `grace`, then stop the workers. Blocks until they have stopped. Safe to call once, from any thread.
  void Shutdown(std::chrono::milliseconds grace);
  // A reload (`mecrouter serve`, SIGHUP): each worker gets a new handler from `factory`, made on
  // its own thread; requests that run keep the handler they started with, later requests (on open
  // keep-alive connections too) get the new one. Returns the old handlers, which expire when their
  // last request ends. Blocks until every worker has swapped. REQUIRES: Listen() succeeded, not
  // called from a worker thread, and Shutdown() not begun.
  std::vector<std::weak_ptr<Handler>> ReplaceHandlers(const HandlerFactory& factory);
  int active_requests() const { return active_requests_.load(); }
  int open_connections() const { return open_connections_.load(); }
  // Requests answered 503 for the server's own limits (max_connections, max_in_flight).
  uint64_t limited() const { return limited_.load(); }
  bool tls() const { return options_.tls.enabled(); }
  // server.tls: re-reads the certificate, key and client CA files (SIGHUP); new connections use
  // them, open ones keep theirs. On error the old ones stay. Any thread.
  Status ReloadTls();
  uint64_t tls_failures() const { return tls_failures_.load(); }  // failed handshakes

 private:
  struct Worker;
  awaitable<void> Accept(Worker& w);
  std::shared_ptr<asio::ssl::context> TlsContext() const;  // null without server.tls

  ServerOptions options_;
  HandlerFactory factory_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::thread> threads_;
  int port_ = 0;
  std::atomic<int> active_requests_{0};
  std::atomic<int> open_connections_{0};
  std::atomic<uint64_t> limited_{0};
  std::atomic<bool> draining_{false};
  mutable std::mutex tls_mu_;
  std::shared_ptr<asio::ssl::context> tls_ctx_;
  std::atomic<uint64_t> tls_failures_{0};
  friend class Connection;
};

}  // namespace mec::net

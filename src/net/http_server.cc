#include "net/http_server.h"

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>

#include <sys/socket.h>

#include <future>
#include <list>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <fmt/format.h>

#include "core/ascii.h"
#include "core/host_port.h"
#include "net/lazy_deadline.h"
#include "net/request_reader.h"
#include "net/send_now.h"
#include "net/server_stream.h"
#include "net/wire_format.h"

namespace mec::net {

// The clock of the connections' I/O deadlines (header, body, write and keep-alive timeouts).
const SystemClock kServerClock{};

using asio::use_awaitable;

HttpResponse ErrorResponse(const ApiError& e, unsigned version, bool keep_alive) {
  HttpResponse res{static_cast<http::status>(e.http_status), version};
  res.set(http::field::content_type, "application/json");
  res.keep_alive(keep_alive);
  res.body() = ErrorJson(e);
  res.prepare_payload();
  return res;
}

std::optional<ApiError> CheckJsonContentType(std::string_view ct) {
  std::string_view media = ct.substr(0, ct.find(';'));
  while (!media.empty() && (media.front() == ' ' || media.front() == '\t')) media.remove_prefix(1);
  while (!media.empty() && (media.back() == ' ' || media.back() == '\t')) media.remove_suffix(1);
  if (media.empty() || AsciiIEquals(media, "application/json")) return std::nullopt;
  return ApiError{415, "invalid_request_error", "Content-Type must be application/json.", "Content-Type", "unsupported_media_type"};
}

HttpResponse JsonResponse(std::string body, unsigned version, bool keep_alive, http::status s) {
  HttpResponse res{s, version};
  res.set(http::field::content_type, "application/json");
  res.keep_alive(keep_alive);
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

class Connection;

struct HttpServer::Worker {
  explicit Worker(int i) : index(i), acceptor(ioc) {}
  int index;
  // One thread runs it, and only that thread does I/O on its sockets (connections, upstream
  // pools, the acceptor: other threads post to it), so the reactor's per-socket lock is off
  // (UNSAFE_IO: ~7 lock/unlock pairs a request); posting from other threads stays locked.
  asio::io_context ioc{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO};
  tcp::acceptor acceptor;
  std::shared_ptr<Handler> handler;
  std::list<Connection*> connections;  // touched only on this worker's thread
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard;
};

// One client connection. Lives on one worker; owned by its Run() coroutine (shared_from_this).
class Connection : public ClientChannel, public std::enable_shared_from_this<Connection> {
 public:
  enum class Timeout { kNone, kHeader, kBody, kWrite, kKeepAlive };

  // `over_limit`: accepted beyond server.max_connections: its first request is answered 503
  // (with Retry-After) and the connection closed.
  Connection(HttpServer& server, HttpServer::Worker& worker, tcp::socket sock, std::shared_ptr<asio::ssl::context> tls,
             bool over_limit)
      : server_(server), worker_(worker), stream_(std::move(sock), std::move(tls)), sock_(stream_.socket()),
        deadline_(sock_.get_executor(), kServerClock), watch_done_(sock_.get_executor()), over_limit_(over_limit) {}

  awaitable<void> Run();

  // ClientChannel
  awaitable<bool> Send(HttpResponse res, std::string_view extra_fields) override;
  awaitable<bool> BeginStream(http::response<http::empty_body> head, std::string_view extra_fields) override;
  awaitable<bool> WriteChunk(std::string_view data) override;
  awaitable<bool> EndStream() override;
  void Abort() override {
    beast::error_code ec;
    sock_.set_option(asio::socket_base::linger(true, 0), ec);  // RST, like a crashed server
    sock_.close(ec);
    aborted_ = true;
  }
  bool gone() const override { return gone_; }
  void OnGone(std::function<void()> hook) override {
    if (gone_) hook();
    else hooks_.push_back(std::move(hook));
  }
  bool started() const override { return started_; }

  // Closes the connection if it is idle between requests (graceful shutdown).
  void CloseIfIdle() {
    if (idle_) {
      beast::error_code ec;
      sock_.cancel(ec);
    }
  }

 private:
  // The connection's deadline (net/lazy_deadline.h): a keep-alive request costs no timer
  // operation in the common case, where the previous wait (60 s) is still pending.
  void Arm(std::chrono::milliseconds d, Timeout kind) {
    timed_out_ = Timeout::kNone;
    armed_ = kind;
    const TimePoint now = kServerClock.Now();
    deadline_.Arm(this, now + d, now);
  }
  void Disarm() {
    armed_ = Timeout::kNone;
    deadline_.Disarm();
  }
  friend class LazyDeadline;
  friend struct ReadableHandler;
  void OnDeadline() {
    timed_out_ = armed_;
    armed_ = Timeout::kNone;
    beast::error_code ignore;
    sock_.cancel(ignore);
  }
  void MarkGone() {
    if (gone_) return;
    gone_ = true;
    auto hooks = std::move(hooks_);
    hooks_.clear();
    for (auto& h : hooks) h();
  }
  awaitable<bool> Handshake();
  // Reads the next request into `req`: a plain head (net/request_reader.h ParsePlainHead) and its
  // Content-Length body straight from the socket into buf_, anything else with Beast's parser.
  // false: the connection closes (after the error answer, if one is due).
  awaitable<bool> ReadRequest(HttpRequest& req, bool first);
  awaitable<bool> ReadWithBeast(HttpRequest& req);
  // After a failed read of a head: the answer due (408, 400, 431; none when the client left or
  // the connection idled out). `got_some`: part of a head had arrived.
  awaitable<void> AnswerHeadError(beast::error_code ec, bool got_some);
  // After a failed read of a body: 408 on our timeout, else 413 or 400; none when the client left.
  awaitable<void> AnswerBodyError(beast::error_code ec);
  // While a handler runs, the connection watches its socket for the client's disconnect (and
  // keeps bytes it sends meanwhile, a pipelined request, for the next parse). Plain TCP: one
  // readiness wait with a plain completion handler, no coroutine, kept when the request ends as
  // the next request's wait (StopWatch, AwaitReadable). TLS: a reading coroutine (a TLS record is
  // not a byte of the request).
  void StartWatch();
  void StopWatch();  // plain TCP
  awaitable<void> StopTlsWatch();
  void ArmWatch();
  // `gen`: the watch_gen_ the wait was armed under (a wait queued for an earlier request may
  // complete during this one).
  void OnReadable(const beast::error_code& ec, uint32_t gen);
  // One non-blocking recv into buf_ once the kept wait said so: >0 bytes, 0 nothing after all
  // (read as usual), -1 with `ec` set (eof: the client closed).
  int RecvNow(beast::error_code& ec);
  // Plain TCP, between requests: the watch's wait is kept when a request ends and becomes the
  // wait for the next request. ReadRequest awaits it here and OnReadable resumes it; then one
  // RecvNow takes the bytes. A cancelled wait (which Asio completes through its queue, one more
  // turn of the scheduler and an epoll_wait) and a read answering EAGAIN on nearly every request
  // are saved (docs/benchmarks.md, seventh pass).
  template <class Token>
  auto AwaitReadable(Token&& token) {
    return asio::async_initiate<Token, void(beast::error_code)>(
        [this](auto handler) {
          // Swapped in: Boost 1.81's move assignment of any_completion_handler wraps the handler
          // in itself (fixed in 1.82); its move constructor and swap are sound.
          asio::any_completion_handler<void(beast::error_code)>(std::move(handler)).swap(reader_);
        },
        token);
  }
  bool Drain();  // false: the client is gone (or flooding); plain TCP only
  awaitable<void> Watch();  // TLS
  awaitable<void> WriteAndLinger(HttpResponse res);
  // Writes go in two parts: a plain call lays out the bytes (Lay: wbuf_ holds the head, and a
  // small tail is copied behind it), then one coroutine, Write, sends them. The channel's Send,
  // BeginStream, WriteChunk and EndStream are such plain calls that return Write's awaitable: one
  // coroutine frame per write instead of three. Write sends nothing and returns false once the
  // client is gone; with nothing laid out (an empty chunk) it returns !gone().
  void Lay(std::string_view tail, std::string_view suffix = {});
  awaitable<bool> Write();
  static constexpr size_t kCopyLimit = 16 * 1024;  // a body up to this is copied behind its head
  static constexpr size_t kKeepBytes = 4 * 1024;   // write buffer kept between writes

  HttpServer& server_;
  HttpServer::Worker& worker_;
  ServerStream stream_;  // reads and writes (TLS or not)
  tcp::socket& sock_;    // stream_'s socket: cancel, shutdown, close
  LazyDeadline deadline_;
  asio::steady_timer watch_done_;  // cancelled by the watcher when it exits
  beast::flat_buffer buf_;
  std::string wbuf_;  // the next write's head (and a small body), reused across requests
  std::string big_;   // a large body, written after wbuf_ without a copy
  std::array<asio::const_buffer, 3> parts_;  // what Write sends: parts_[0, nparts_)
  size_t nparts_ = 0;
  Timeout armed_ = Timeout::kNone;  // the phase a timeout would end
  Timeout timed_out_ = Timeout::kNone;
  bool idle_ = true;
  bool gone_ = false;
  bool started_ = false;
  bool aborted_ = false;
  bool keep_alive_ = true;
  unsigned version_ = 11;
  bool watching_ = false;      // a request's handler runs and its disconnect is watched
  bool watch_stop_ = false;    // TLS: the watcher coroutine is asked to end
  bool wait_pending_ = false;  // plain: a readiness wait is queued on the socket
  // Plain, between requests: the kept wait completed (readable, or `fired_ec_`) before anyone
  // awaited it; reader_: the coroutine awaiting it (AwaitReadable).
  bool fired_ = false;
  beast::error_code fired_ec_;
  asio::any_completion_handler<void(beast::error_code)> reader_;
  uint32_t watch_gen_ = 0;     // plain: one more per request watched (StartWatch)
  const bool over_limit_;
  std::vector<std::function<void()>> hooks_;
};

awaitable<bool> Connection::Write() {
  if (nparts_ == 0) co_return !gone_;
  if (gone_ || aborted_) co_return false;
  beast::error_code ec;
  if (!stream_.tls()) {  // what the kernel takes now needs no turn of the scheduler (net/send_now.h)
    const size_t sent = SendNow(sock_.native_handle(), std::span(parts_.data(), nparts_), ec);
    nparts_ = ec ? 0 : DropSent(parts_, nparts_, sent);
  }
  if (nparts_ > 0) {  // what is left waits for the socket (and the write timeout)
    Arm(std::chrono::milliseconds(server_.options_.keepalive_timeout_ms), Timeout::kWrite);
    if (nparts_ == 1) {
      auto [wec, n] = co_await asio::async_write(stream_, parts_[0], kTuple);
      ec = wec;
    } else {
      auto [wec, n] = co_await asio::async_write(stream_, parts_, kTuple);
      ec = wec;
    }
    Disarm();
    nparts_ = 0;
  }
  // An idle keep-alive connection keeps at most kKeepBytes of write buffer (10,000 of them would
  // otherwise hold up to 16 KB each after one large answer).
  if (wbuf_.capacity() > kKeepBytes) std::string().swap(wbuf_);
  if (!big_.empty()) std::string().swap(big_);
  if (ec) {
    MarkGone();
    co_return false;
  }
  co_return true;
}

// Lays out wbuf_, then `tail`, then `suffix`: one buffer when the tail is small (copied behind the
// head, one send and one TLS record), else three. A large tail is written from where it is: it
// must outlive the write (a body moved into big_, or a chunk the caller keeps while it awaits).
void Connection::Lay(std::string_view tail, std::string_view suffix) {
  if (tail.size() <= kCopyLimit) {
    wbuf_.append(tail);
    wbuf_.append(suffix);
    parts_[0] = asio::buffer(wbuf_);
    nparts_ = 1;
    return;
  }
  parts_ = {asio::buffer(wbuf_), asio::buffer(tail.data(), tail.size()), asio::buffer(suffix.data(), suffix.size())};
  nparts_ = 3;
}

// The head is written by hand (net/wire_format.h), the same bytes as Beast's serializer.
awaitable<bool> Connection::Send(HttpResponse res, std::string_view extra_fields) {
  nparts_ = 1;  // Write answers false if gone
  if (gone_ || aborted_) return Write();
  const bool asked = res.keep_alive();
  if (asked && !keep_alive_) res.keep_alive(false);
  keep_alive_ = asked && keep_alive_;
  // Without a length, the head gets the one prepare_payload would set, as a line (no field made);
  // statuses that have no body (1xx, 204, 304) are left to prepare_payload.
  std::optional<size_t> length;
  if (!res.has_content_length() && !res.chunked()) {
    const unsigned code = res.result_int();
    if (code >= 200 && code != 204 && code != 304) length = res.body().size();
    else res.prepare_payload();
  }
  started_ = true;
  wbuf_.clear();
  AppendResponseHead(res.base(), wbuf_, extra_fields, length);
  if (res.body().size() <= kCopyLimit) {
    Lay(res.body());
  } else {
    big_ = std::move(res.body());
    Lay(big_);
  }
  return Write();
}

awaitable<bool> Connection::BeginStream(http::response<http::empty_body> head, std::string_view extra_fields) {
  nparts_ = 1;
  if (gone_ || aborted_) return Write();
  head.version(version_);
  head.keep_alive(keep_alive_);
  head.chunked(true);
  started_ = true;
  wbuf_.clear();
  AppendResponseHead(head.base(), wbuf_, extra_fields);
  Lay({});
  return Write();
}

awaitable<bool> Connection::WriteChunk(std::string_view data) {
  nparts_ = 0;
  if (data.empty()) return Write();
  wbuf_.clear();
  AppendChunkSize(data.size(), wbuf_);
  Lay(data, kChunkEnd);
  return Write();
}

awaitable<bool> Connection::EndStream() {
  wbuf_.assign(kLastChunk);
  parts_[0] = asio::buffer(wbuf_);
  nparts_ = 1;
  return Write();
}

void Connection::StartWatch() {
  watching_ = true;
  if (stream_.tls()) {
    watch_stop_ = false;
    watch_done_.expires_at(asio::steady_timer::time_point::max());
    asio::co_spawn(sock_.get_executor(), Watch(), asio::detached);
    return;
  }
  ++watch_gen_;
  // No read here for bytes (or the end of stream) that arrived before the wait: queuing a readiness
  // wait re-arms the socket in the reactor (EPOLL_CTL_MOD, which reports a socket already readable,
  // though the reactor is edge-triggered), so the wait completes at once and OnReadable takes them.
  // (The read this replaced was a recv() answering EAGAIN on nearly every request.) A wait still
  // pending is the last request's, kept (StopWatch): it watches this one.
  if (!wait_pending_) ArmWatch();
}

// The wait, if still queued, is kept: it is the next request's wait (ReadRequest awaits it through
// AwaitReadable), not a second operation queued behind it on the socket. (A read queued behind a
// wait completed one turn of the scheduler later: the reactor completes the first operation a
// readiness finishes at once and posts the others; cancelling the wait instead cost that turn and
// an epoll_wait of its own, and the next read's speculative recv answered EAGAIN.)
void Connection::StopWatch() { watching_ = false; }

awaitable<void> Connection::StopTlsWatch() {
  if (!watching_) co_return;
  watch_stop_ = true;
  beast::error_code ec;
  sock_.cancel(ec);
  co_await watch_done_.async_wait(kTuple);
}

// The wait's completion handler. Destroyed without being called (the worker's io_context shut
// down with the wait queued), it drops a reader awaiting the wait: the reader's coroutine owns the
// connection, which owns reader_, a cycle nothing else breaks.
struct ReadableHandler {
  std::shared_ptr<Connection> self;
  uint32_t gen = 0;
  bool called = false;
  ReadableHandler(std::shared_ptr<Connection> c, uint32_t g) : self(std::move(c)), gen(g) {}
  ReadableHandler(ReadableHandler&&) = default;
  ReadableHandler& operator=(ReadableHandler&&) = delete;
  ~ReadableHandler() {
    if (self && !called) self->reader_ = nullptr;
  }
  void operator()(const beast::error_code& ec) {
    called = true;
    self->OnReadable(ec, gen);
  }
};

void Connection::ArmWatch() {
  wait_pending_ = true;
  fired_ = false;  // a new wait: whatever an earlier one said is asked again
  sock_.async_wait(tcp::socket::wait_read, ReadableHandler(shared_from_this(), watch_gen_));
}

void Connection::OnReadable(const beast::error_code& ec, uint32_t gen) {
  wait_pending_ = false;
  if (reader_) {  // between requests, ReadRequest awaits the next request's bytes (or the end)
    auto reader = std::move(reader_);  // the move constructor (not assignment, see AwaitReadable)
    std::move(reader)(ec);
    return;
  }
  if (!watching_) {  // between requests, before ReadRequest awaits: it reads at once
    fired_ = true;
    fired_ec_ = ec;
    return;
  }
  if (ec == asio::error::operation_aborted && gen != watch_gen_ && !aborted_) {
    // A wait queued before this request, cancelled between requests (CloseIfIdle during a graceful
    // shutdown while a pipelined request was already buffered): it says nothing about the client
    // of this request, which is being served. Watch again.
    ArmWatch();
    return;
  }
  if (ec) {
    // Cancelled by our own Abort, or by a write timeout (the client is then gone too).
    watching_ = false;
    if (ec != asio::error::operation_aborted || !aborted_) MarkGone();
    return;
  }
  if (Drain()) ArmWatch();
}

bool Connection::Drain() {
  for (;;) {
    if (buf_.size() > 1 << 20) {  // a client flooding pipelined bytes: stop watching
      watching_ = false;
      return false;
    }
    const auto space = buf_.prepare(4096);
    const ssize_t n = ::recv(sock_.native_handle(), space.data(), space.size(), MSG_DONTWAIT);
    if (n > 0) {
      buf_.commit(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    watching_ = false;  // end of stream, or a reset
    MarkGone();
    return false;
  }
}

int Connection::RecvNow(beast::error_code& ec) {
  const auto space = buf_.prepare(4096);
  for (;;) {
    const ssize_t n = ::recv(sock_.native_handle(), space.data(), space.size(), MSG_DONTWAIT);
    if (n > 0) {
      buf_.commit(static_cast<size_t>(n));
      return static_cast<int>(n);
    }
    if (n == 0) {
      ec = asio::error::eof;
      return -1;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
    ec = beast::error_code(errno, boost::system::system_category());
    return -1;
  }
}

// TLS: reads the stream while a handler runs. Bytes that arrive (a pipelined request) are kept for the
// next parse; end of stream or an error means the client is gone.
awaitable<void> Connection::Watch() {
  auto self = shared_from_this();
  while (!watch_stop_) {
    if (buf_.size() > 1 << 20) break;  // a client flooding pipelined bytes: stop watching
    auto [ec, n] = co_await stream_.async_read_some(buf_.prepare(4096), kTuple);
    if (!ec) buf_.commit(n);
    if (watch_stop_) break;
    if (ec) {
      if (ec != asio::error::operation_aborted || !aborted_) MarkGone();
      break;
    }
  }
  watching_ = false;
  watch_done_.cancel();
}

awaitable<void> Connection::WriteAndLinger(HttpResponse res) {
  res.keep_alive(false);
  keep_alive_ = false;
  co_await Send(std::move(res), {});
  // Lingering close: stop sending, drain what the client still sends for a moment, so that it
  // reads our error instead of a reset.
  beast::error_code ec;
  sock_.shutdown(tcp::socket::shutdown_send, ec);
  Arm(std::chrono::milliseconds(500), Timeout::kWrite);
  char sink[4096];
  for (int i = 0; i < 256; ++i) {
    auto [rec, n] = co_await stream_.async_read_some(asio::buffer(sink), kTuple);
    if (rec) break;
  }
  Disarm();
}

// TLS only: the handshake, within the header timeout. A failed one closes the connection.
awaitable<bool> Connection::Handshake() {
  ServerStream::Tls* tls = stream_.tls();
  if (!tls) co_return true;
  Arm(std::chrono::milliseconds(server_.options_.header_timeout_ms), Timeout::kHeader);
  auto [ec] = co_await tls->async_handshake(asio::ssl::stream_base::server, kTuple);
  Disarm();
  if (!ec) co_return true;
  server_.tls_failures_.fetch_add(1, std::memory_order_relaxed);
  co_return false;
}

awaitable<bool> Connection::ReadRequest(HttpRequest& req, bool first) {
  const auto& o = server_.options_;
  // Wait for the request line: keep-alive idle time between requests, header time for the first.
  const bool had_bytes = buf_.size() > 0;
  Arm(std::chrono::milliseconds(first || had_bytes ? o.header_timeout_ms : o.keepalive_timeout_ms),
      first || had_bytes ? Timeout::kHeader : Timeout::kKeepAlive);
  size_t head_bytes = 0, length = 0;
  for (;;) {
    const auto in = buf_.data();
    const PlainHead ph =
        ParsePlainHead(std::string_view(static_cast<const char*>(in.data()), in.size()), o, req, head_bytes, length);
    if (ph == PlainHead::kUseBeast) {
      const bool read = co_await ReadWithBeast(req);  // named: g++ 12 and co_await in expressions
      co_return read;
    }
    if (ph == PlainHead::kParsed) break;
    beast::error_code ec;
    int got = 0;  // plain TCP with the last request's wait kept: its readiness, then one recv
    if (!stream_.tls() && (wait_pending_ || fired_)) {
      if (fired_) {
        fired_ = false;
        ec = std::exchange(fired_ec_, {});
      } else {
        auto [wec] = co_await AwaitReadable(kTuple);
        ec = wec;
      }
      got = ec ? -1 : RecvNow(ec);
    }
    if (got == 0) {
      auto [rec, n] = co_await stream_.async_read_some(buf_.prepare(4096), kTuple);
      buf_.commit(n);
      ec = rec;
    }
    if (ec) {
      Disarm();
      idle_ = false;
      // As Beast reports it: the peer closed within a head is a partial message (400).
      const beast::error_code why = ec == asio::error::eof && buf_.size() > 0 ? beast::error_code(http::error::partial_message) : ec;
      co_await AnswerHeadError(why, buf_.size() > 0);
      co_return false;
    }
  }
  Disarm();
  idle_ = false;
  version_ = req.version();
  keep_alive_ = req.keep_alive();
  if (buf_.size() < head_bytes + length) {
    Arm(std::chrono::milliseconds(o.body_timeout_ms), Timeout::kBody);
    while (buf_.size() < head_bytes + length) {
      auto [ec, n] = co_await stream_.async_read_some(buf_.prepare(std::max<size_t>(head_bytes + length - buf_.size(), 4096)), kTuple);
      buf_.commit(n);
      if (ec) {
        Disarm();
        // The peer closed within the body: a partial message, as Beast reports it (400).
        co_await AnswerBodyError(ec == asio::error::eof ? beast::error_code(http::error::partial_message) : ec);
        co_return false;
      }
    }
    Disarm();
  }
  req.body().assign(static_cast<const char*>(buf_.data().data()) + head_bytes, length);
  buf_.consume(head_bytes + length);
  co_return true;
}

awaitable<bool> Connection::ReadWithBeast(HttpRequest& req) {
  const auto& o = server_.options_;
  RequestParser parser;
  LimitRequestParser(parser, o);
  auto [ec, n] = co_await http::async_read_header(stream_, buf_, parser, kTuple);
  Disarm();
  idle_ = false;
  if (ec) {
    co_await AnswerHeadError(ec, buf_.size() > 0 || parser.got_some());
    co_return false;
  }
  auto& head = parser.get();
  version_ = head.version();
  keep_alive_ = head.keep_alive();
  const std::optional<ApiError> too_many = CheckHeaderCount(head, o);  // 431
  if (too_many) {
    auto res = ErrorResponse(*too_many, version_, false);  // named first: g++ 12 and temporaries across co_await
    co_await WriteAndLinger(std::move(res));
    co_return false;
  }
  if (!parser.is_done()) {
    Arm(std::chrono::milliseconds(o.body_timeout_ms), Timeout::kBody);
    auto [bec, bn] = co_await http::async_read(stream_, buf_, parser, kTuple);
    Disarm();
    if (bec) {
      co_await AnswerBodyError(bec);
      co_return false;
    }
  }
  req = parser.release();
  co_return true;
}

awaitable<void> Connection::AnswerBodyError(beast::error_code ec) {
  // 408 on our timeout; else 413 or 400 (net/request_reader.h), nothing if the client left.
  const std::optional<ApiError> err =
      timed_out_ == Timeout::kBody
          ? std::optional<ApiError>(ApiError{408, "invalid_request_error", "Request body not received in time.", "", "request_timeout"})
          : RequestReadError(ec, true, server_.options_);
  if (err) {
    auto res = ErrorResponse(*err, version_, false);  // named first: g++ 12 and temporaries across co_await
    co_await WriteAndLinger(std::move(res));
  }
}

awaitable<void> Connection::AnswerHeadError(beast::error_code ec, bool got_some) {
  if (ec == http::error::end_of_stream || ec == asio::error::connection_reset || ec == asio::error::eof) co_return;
  if (timed_out_ == Timeout::kKeepAlive || server_.draining_) co_return;
  if (timed_out_ == Timeout::kHeader) {
    if (got_some) {
      auto res = ErrorResponse({408, "invalid_request_error", "Request header not received in time.", "", "request_timeout"}, 11, false);
      co_await WriteAndLinger(std::move(res));
    }
    co_return;
  }
  // 431 header limit, 413 body limit, 400 malformed (net/request_reader.h); nothing when cancelled.
  const std::optional<ApiError> err = RequestReadError(ec, false, server_.options_);  // named, not in the condition (g++ 12)
  if (err) {
    auto res = ErrorResponse(*err, 11, false);
    co_await WriteAndLinger(std::move(res));
  }
}

awaitable<void> Connection::Run() {
  auto self = shared_from_this();
  worker_.connections.push_back(this);
  auto it = std::prev(worker_.connections.end());
  const auto& o = server_.options_;
  bool first = true;
  try {
    const bool shaken = co_await Handshake();
    for (; shaken;) {
      idle_ = true;
      started_ = false;
      if (server_.draining_) break;
      HttpRequest req;
      const bool got = co_await ReadRequest(req, first);  // named: g++ 12 and co_await in conditions
      first = false;
      if (!got) break;

      // The gateway's own limits (issue 17): past server.max_connections the connection gets one
      // 503 and is closed; past server.max_in_flight a request gets a 503 and the connection stays.
      // GET requests (health, readiness, metrics, the dashboard) are not limited by max_in_flight.
      const bool over_in_flight = o.max_in_flight > 0 && req.method() != http::verb::get &&
                                  server_.active_requests_.load() >= o.max_in_flight;
      if (over_limit_ || over_in_flight) {
        server_.limited_.fetch_add(1, std::memory_order_relaxed);
        const std::string msg = over_limit_ ? fmt::format("The gateway is at its limit of {} open connections; retry shortly.", o.max_connections)
                                            : fmt::format("The gateway is at its limit of {} requests in flight; retry shortly.", o.max_in_flight);
        auto res = ErrorResponse({503, "server_error", msg, "", "overloaded"}, req.version(), !over_limit_ && req.keep_alive());
        res.set(http::field::retry_after, "1");
        if (over_limit_) {
          co_await WriteAndLinger(std::move(res));
          break;
        }
        const bool sent = co_await Send(std::move(res), {});
        if (!sent || !keep_alive_) break;
        continue;
      }

      // Handle, watching for the client's disconnect meanwhile.
      server_.active_requests_.fetch_add(1);
      StartWatch();
      {
        // The request keeps its handler: a reload (ReplaceHandlers) swaps the worker's slot, and
        // the old handler lives until its last request ends.
        const std::shared_ptr<Handler> handler = worker_.handler;
        co_await handler->Handle(req, *this);
      }
      hooks_.clear();  // they point into the finished handler's frame
      server_.active_requests_.fetch_sub(1);
      if (stream_.tls()) co_await StopTlsWatch();
      else StopWatch();
      if (gone_ || aborted_ || !keep_alive_ || !started_) break;
    }
  } catch (const std::exception&) {
    // Nothing may escape a connection; the socket is closed below.
  }
  worker_.connections.erase(it);
  server_.open_connections_.fetch_sub(1, std::memory_order_relaxed);
  beast::error_code ec;
  sock_.shutdown(tcp::socket::shutdown_send, ec);
  sock_.close(ec);
  deadline_.Cancel();
}

HttpServer::HttpServer(ServerOptions options, HandlerFactory factory)
    : options_(std::move(options)), factory_(std::move(factory)) {}

HttpServer::~HttpServer() {
  for (auto& w : workers_) w->ioc.stop();
  for (auto& t : threads_)
    if (t.joinable()) t.join();
}

std::string HttpServer::address() const {
  auto host = options_.listen.substr(0, options_.listen.rfind(':'));
  return fmt::format("{}:{}", host, port_);
}

Status HttpServer::Listen() {
  if (Status t = ReloadTls(); !t.ok()) return t;
  const auto colon = options_.listen.rfind(':');
  const std::optional<int> parsed_port = ListenPort(options_.listen);  // a cast took 99999 as 34463
  if (!parsed_port)
    return Status::InvalidArgument("listen address needs HOST:PORT with a port from 0 to 65535, got " +
                                   options_.listen);
  int port = *parsed_port;
  std::string host = options_.listen.substr(0, colon);
  if (host.size() > 1 && host.front() == '[') host = host.substr(1, host.size() - 2);
  beast::error_code ec;
  auto addr = asio::ip::make_address(host == "localhost" ? "127.0.0.1" : host, ec);
  if (ec) return Status::InvalidArgument("listen address: " + host + " is not an IP address");
  // The workers' listeners set SO_REUSEPORT so that the kernel spreads connections over them; the
  // kernel would as well let them join a listener of another process (of this user) on the same
  // port, e.g. a gateway left running, which would then answer part of the traffic. Unless
  // server.share_port, bind once without SO_REUSEPORT first: that fails while anything listens.
  if (port != 0 && !options_.share_port) {
    asio::io_context probe_ioc(1);
    tcp::acceptor probe(probe_ioc);
    const tcp::endpoint ep(addr, static_cast<unsigned short>(port));
    probe.open(ep.protocol(), ec);
    if (!ec) probe.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) probe.bind(ep, ec);
    if (ec)
      return Status::Unavailable(fmt::format("cannot listen on {}:{}: {}{}", host, port, ec.message(),
                                             ec == asio::error::address_in_use ? " (another process listens there; "
                                                                                 "server.share_port: true shares the port on purpose)" : ""));
  }
  int n = options_.threads > 0 ? options_.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  for (int i = 0; i < n; ++i) {
    auto w = std::make_unique<Worker>(i);
    tcp::endpoint ep(addr, static_cast<unsigned short>(port));
    w->acceptor.open(ep.protocol(), ec);
    if (!ec) w->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) {
      int one = 1;
      ::setsockopt(w->acceptor.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    }
    if (!ec) w->acceptor.bind(ep, ec);
    if (!ec) w->acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return Status::Unavailable(fmt::format("cannot listen on {}:{}: {}", host, port, ec.message()));
    if (port == 0) port = w->acceptor.local_endpoint().port();
    w->handler = factory_(i, w->ioc);
    workers_.push_back(std::move(w));
  }
  port_ = port;
  return Status::Ok();
}

awaitable<void> HttpServer::Accept(Worker& w) {
  asio::steady_timer backoff(w.ioc);
  int failed = 0;  // accepts failed in a row
  for (;;) {
    auto [ec, sock] = co_await w.acceptor.async_accept(kTuple);
    if (ec) {
      if (ec == asio::error::operation_aborted || !w.acceptor.is_open()) co_return;
      // E.g. EMFILE: the pending connection stays in the backlog, so accepting again at once would
      // fail at once, in a loop that takes a core. Keep serving the connections we have, and try
      // again in 50 ms (a log line at the first failure and every 200th after it: 10 s).
      if (failed++ % 200 == 0) {
        std::fprintf(stderr, "mecrouter: cannot accept a connection: %s; retrying every 50 ms (%d open)\n", ec.message().c_str(),
                     open_connections_.load(std::memory_order_relaxed));
      }
      backoff.expires_after(std::chrono::milliseconds(50));
      co_await backoff.async_wait(kTuple);
      continue;
    }
    failed = 0;
    if (draining_) continue;
    sock.set_option(tcp::no_delay(true), ec);
    const bool over = open_connections_.fetch_add(1, std::memory_order_relaxed) >= options_.max_connections;
    auto c = std::make_shared<Connection>(*this, w, std::move(sock), TlsContext(), over);
    asio::co_spawn(w.ioc, c->Run(), asio::detached);
  }
}

namespace {

// A server context from the files: TLS 1.2 or newer, the chain and key, and client certificates
// required and verified when client_ca is set.
Result<std::shared_ptr<asio::ssl::context>> MakeTlsContext(const ServerTlsOptions& t) {
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  beast::error_code ec;
  ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 | asio::ssl::context::no_sslv3 |
                       asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use,
                   ec);
  if (!ec) ctx->use_certificate_chain_file(t.cert, ec);
  if (ec) return Status::InvalidArgument("server.tls.cert " + t.cert + ": " + ec.message());
  ctx->use_private_key_file(t.key, asio::ssl::context::pem, ec);
  if (ec) return Status::InvalidArgument("server.tls.key " + t.key + ": " + ec.message());
  if (!t.client_ca.empty()) {
    ctx->load_verify_file(t.client_ca, ec);
    if (ec) return Status::InvalidArgument("server.tls.client_ca " + t.client_ca + ": " + ec.message());
    ctx->set_verify_mode(asio::ssl::verify_peer | asio::ssl::verify_fail_if_no_peer_cert, ec);
    if (ec) return Status::InvalidArgument("server.tls.client_ca: " + ec.message());
  }
  return ctx;
}

}  // namespace

std::shared_ptr<asio::ssl::context> HttpServer::TlsContext() const {
  if (!options_.tls.enabled()) return nullptr;
  std::lock_guard lock(tls_mu_);
  return tls_ctx_;
}

Status HttpServer::ReloadTls() {
  if (!options_.tls.enabled()) return Status::Ok();
  auto ctx = MakeTlsContext(options_.tls);
  if (!ctx.ok()) return ctx.status();
  std::lock_guard lock(tls_mu_);
  tls_ctx_ = std::move(*ctx);
  return Status::Ok();
}

void HttpServer::Start() {
  for (auto& w : workers_) {
    asio::co_spawn(w->ioc, Accept(*w), asio::detached);
    w->guard.emplace(w->ioc.get_executor());
    threads_.emplace_back([w = w.get()] { w->ioc.run(); });
  }
}

std::vector<std::weak_ptr<Handler>> HttpServer::ReplaceHandlers(const HandlerFactory& factory) {
  std::vector<std::weak_ptr<Handler>> old;
  if (threads_.empty()) {  // not started: no request runs, swap here
    for (auto& w : workers_) {
      old.push_back(w->handler);
      w->handler = factory(w->index, w->ioc);
    }
    return old;
  }
  old.resize(workers_.size());
  std::vector<std::promise<void>> done(workers_.size());
  for (size_t i = 0; i < workers_.size(); ++i) {
    Worker* w = workers_[i].get();
    asio::post(w->ioc, [w, &factory, &old, &done, i] {
      old[i] = w->handler;
      w->handler = factory(w->index, w->ioc);
      done[i].set_value();
    });
  }
  for (auto& d : done) d.get_future().wait();
  return old;
}

void HttpServer::Shutdown(std::chrono::milliseconds grace) {
  draining_ = true;
  for (auto& w : workers_) {
    asio::post(w->ioc, [w = w.get()] {
      beast::error_code ec;
      w->acceptor.close(ec);
      for (Connection* c : w->connections) c->CloseIfIdle();
    });
  }
  for (int64_t waited = 0; active_requests_.load() > 0 && waited < grace.count(); waited += 20)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  for (auto& w : workers_) {
    w->guard.reset();
    w->ioc.stop();
  }
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
}

}  // namespace mec::net

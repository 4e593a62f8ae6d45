#include "net/upstream_client.h"

#include <charconv>
#include <cstdlib>
#include <map>
#include <mutex>

#include <fmt/format.h>

#include "net/lazy_deadline.h"
#include "net/wire_format.h"

namespace mec::net {

namespace ssl = asio::ssl;

// One pooled connection, plain or TLS, with its read buffer and its deadline (net/lazy_deadline.h:
// one timer, re-armed lazily; one past its deadline closes the socket, the operation in progress
// fails, and `timed_out` says why). beast::tcp_stream armed and cancelled a timer around every read
// and write: ~8,000 instructions per request (docs/benchmarks.md).
struct UpstreamConn : std::enable_shared_from_this<UpstreamConn> {
  UpstreamConn(asio::io_context& ioc, const Clock& clock) : deadline(ioc.get_executor(), clock) {}
  std::optional<tcp::socket> plain;
  std::optional<ssl::stream<tcp::socket>> tls;
  beast::flat_buffer buf;
  LazyDeadline deadline;
  bool timed_out = false;  // the armed deadline passed: the socket was closed

  tcp::socket& socket() { return tls ? tls->next_layer() : *plain; }
  // REQUIRES: `now` is the clock's reading the caller made to compute `at`.
  void Arm(TimePoint at, TimePoint now) {
    timed_out = false;
    deadline.Arm(this, at, now);
  }
  void Disarm() { deadline.Disarm(); }
  void OnDeadline() {
    timed_out = true;
    Close();
  }
  void Close() {
    beast::error_code ec;
    socket().shutdown(tcp::socket::shutdown_both, ec);
    socket().close(ec);
    deadline.Cancel();  // a pending wait ends now and lets go of the connection
  }
};

Result<ParsedUrl> ParseUrl(const std::string& url) {
  ParsedUrl u;
  std::string rest;
  if (url.rfind("https://", 0) == 0) {
    u.tls = true;
    rest = url.substr(8);
  } else if (url.rfind("http://", 0) == 0) {
    rest = url.substr(7);
  } else {
    return Status::InvalidArgument("URL must start with http:// or https://: " + url);
  }
  auto slash = rest.find('/');
  std::string hostport = rest.substr(0, slash);
  u.base_path = slash == std::string::npos ? "" : rest.substr(slash);
  while (!u.base_path.empty() && u.base_path.back() == '/') u.base_path.pop_back();
  if (!hostport.empty() && hostport.front() == '[') {  // [v6]:port
    auto close = hostport.find(']');
    u.host = hostport.substr(1, close - 1);
    u.port = close + 1 < hostport.size() && hostport[close + 1] == ':' ? hostport.substr(close + 2) : "";
  } else {
    auto colon = hostport.rfind(':');
    u.host = hostport.substr(0, colon);
    u.port = colon == std::string::npos ? "" : hostport.substr(colon + 1);
  }
  if (u.port.empty()) u.port = u.tls ? "443" : "80";
  if (u.host.empty()) return Status::InvalidArgument("URL has no host: " + url);
  return u;
}

namespace {

// One client TLS context per (CA file, verify) in the process, made when an https backend first
// needs it: loading the system CA store costs ~100M CPU instructions (it was done per backend and
// per worker, for plain http too: most of the start-up time, docs/benchmarks.md). A configured
// SSL_CTX may be shared by threads; each connection has its own SSL object.
std::shared_ptr<ssl::context> ClientTlsContext(const std::string& ca_file, bool verify) {
  static std::mutex mu;
  static std::map<std::pair<std::string, bool>, std::weak_ptr<ssl::context>> made;
  std::lock_guard lock(mu);
  std::weak_ptr<ssl::context>& slot = made[{ca_file, verify}];
  if (auto ctx = slot.lock()) return ctx;
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  beast::error_code ec;
  ctx->set_default_verify_paths(ec);
  if (!ca_file.empty()) ctx->load_verify_file(ca_file, ec);
  ctx->set_verify_mode(verify ? ssl::verify_peer : ssl::verify_none, ec);
  slot = ctx;
  return ctx;
}

}  // namespace

UpstreamPools::UpstreamPools(asio::io_context& ioc, const Clock& clock, const std::vector<BackendOptions>& backends)
    : ioc_(ioc), clock_(clock), backends_(backends) {
  for (const auto& b : backends_) {
    auto u = ParseUrl(b.url);
    urls_.push_back(u.ok() ? *u : ParsedUrl{});
    ssl_.push_back(urls_.back().tls ? ClientTlsContext(b.ca_file, b.tls_verify) : nullptr);
    std::string auth;
    if (!b.api_key_env.empty()) {
      if (const char* key = std::getenv(b.api_key_env.c_str())) {
        auth = beast::iequals(b.auth_header, "Authorization") ? std::string("Bearer ") + key : std::string(key);
      }
    }
    auth_.push_back(std::move(auth));
    resolved_.emplace_back();
    idle_.emplace_back();
  }
}

UpstreamPools::~UpstreamPools() {
  for (auto& v : idle_)
    for (auto& c : v) c->Close();
}

std::shared_ptr<UpstreamConn> UpstreamPools::TakeIdle(int backend) {
  auto& v = idle_[backend];
  if (v.empty()) return nullptr;
  auto c = std::move(v.back());
  v.pop_back();
  return c;
}

void UpstreamPools::GiveBack(int backend, std::shared_ptr<UpstreamConn> c) {
  auto& v = idle_[backend];
  if (v.size() >= 256) return c->Close();  // enough idle connections; this one closes
  c->Disarm();
  v.push_back(std::move(c));
}

UpstreamCall::UpstreamCall(UpstreamPools& pools, int backend) : pools_(pools), backend_(backend) {}

UpstreamCall::~UpstreamCall() {
  if (conn_ && done_ && !cancelled_ && parser_ && parser_->keep_alive() && conn_->socket().is_open()) {
    pools_.GiveBack(backend_, std::move(conn_));
  } else if (conn_) {
    conn_->Close();
  }
}

void UpstreamCall::ArmWithin(int64_t ms) {
  const TimePoint now = pools_.clock().Now();
  conn_->Arm(std::min(now + std::chrono::milliseconds(ms), deadline_), now);
}

std::string_view UpstreamCall::header(http::field f) const {
  if (!parser_) return {};
  return parser_->value(f);
}

void UpstreamCall::Cancel() {
  cancelled_ = true;
  if (conn_) conn_->Close();
}

awaitable<std::optional<AttemptFailure>> UpstreamCall::Connect() {
  const auto& o = pools_.options(backend_);
  const auto& u = pools_.url(backend_);
  if (u.host.empty()) co_return AttemptFailure{AttemptResult::kConnect, 0, 0, "bad URL"};
  auto& resolved = pools_.resolved(backend_);
  if (!resolved) {
    tcp::resolver resolver(pools_.ioc());
    auto [ec, results] = co_await resolver.async_resolve(u.host, u.port, kTuple);
    if (ec) co_return AttemptFailure{AttemptResult::kConnect, 0, 0, "cannot resolve " + u.host + ": " + ec.message()};
    resolved = results;
  }
  conn_ = std::make_shared<UpstreamConn>(pools_.ioc(), pools_.clock());
  if (u.tls) conn_->tls.emplace(pools_.ioc(), pools_.ssl(backend_));
  else conn_->plain.emplace(pools_.ioc());
  ArmWithin(o.timeouts.connect_ms);
  auto [ec, ep] = co_await asio::async_connect(conn_->socket(), *resolved, kTuple);
  if (ec) {
    if (cancelled_) co_return AttemptFailure{AttemptResult::kReset, 0, 0, "cancelled"};
    if (conn_->timed_out) co_return AttemptFailure{AttemptResult::kTimeout, 0, 0, fmt::format("connect timeout ({} ms)", o.timeouts.connect_ms)};
    resolved.reset();  // re-resolve next time
    co_return AttemptFailure{AttemptResult::kConnect, 0, 0, "connect: " + ec.message()};
  }
  conn_->socket().set_option(tcp::no_delay(true), ec);
  if (u.tls) {
    if (!SSL_set_tlsext_host_name(conn_->tls->native_handle(), u.host.c_str()))
      co_return AttemptFailure{AttemptResult::kConnect, 0, 0, "TLS: cannot set SNI"};
    if (o.tls_verify) conn_->tls->set_verify_callback(ssl::host_name_verification(u.host));
    ArmWithin(o.timeouts.connect_ms);
    auto [hec] = co_await conn_->tls->async_handshake(ssl::stream_base::client, kTuple);
    if (hec) {
      if (conn_->timed_out) co_return AttemptFailure{AttemptResult::kTimeout, 0, 0, fmt::format("connect timeout ({} ms)", o.timeouts.connect_ms)};
      co_return AttemptFailure{AttemptResult::kConnect, 0, 0, "TLS handshake: " + hec.message()};
    }
  }
  co_return std::nullopt;
}

// Reads what the parser needs next, as Beast's http::async_read_some does, with the socket's own
// read (no composed operation around it): what conn_->buf holds first, then one read at a time
// until the parser has taken something (`until_head`: the whole head). need_buffer (the body
// buffer is full) comes back to the caller.
template <typename Stream>
awaitable<beast::error_code> UpstreamCall::Feed(Stream& s, bool until_head) {
  auto& buf = conn_->buf;
  for (;;) {
    beast::error_code ec;
    if (buf.size() > 0) {
      const size_t used = parser_->put(buf.data(), ec);
      buf.consume(used);
      if (ec != http::error::need_more) {
        if (ec || !until_head || parser_->is_header_done()) co_return ec;
        if (used > 0) continue;
      }
    }
    auto [rec, n] = co_await s.async_read_some(buf.prepare(std::max<size_t>(4096, std::min<size_t>(buf.capacity() - buf.size(), 65536))), kTuple);
    if (rec == asio::error::eof) {
      if (!parser_->got_some()) co_return http::error::end_of_stream;
      beast::error_code eec;
      parser_->put_eof(eec);  // a body read to the end of the connection ends here
      co_return eec;
    }
    if (rec) co_return rec;
    buf.commit(n);
  }
}

template <typename Stream>
awaitable<std::optional<AttemptFailure>> UpstreamCall::Exchange(Stream& s, const std::string& wire) {
  const auto& o = pools_.options(backend_);
  const int64_t head_ms = o.timeouts.first_byte_ms + generation_.count();
  ArmWithin(head_ms);
  auto [wec, wn] = co_await asio::async_write(s, asio::buffer(wire), kTuple);
  auto classify = [&](beast::error_code ec, const char* phase) -> AttemptFailure {
    if (cancelled_) return {AttemptResult::kReset, 0, 0, "cancelled"};
    if (conn_->timed_out)
      return {AttemptResult::kTimeout, 0, 0,
              generation_.count() > 0 ? fmt::format("no response within {} ms (first_byte_ms {} + {} ms to generate the whole answer)", head_ms,
                                                    o.timeouts.first_byte_ms, generation_.count())
                                      : fmt::format("no first byte within {} ms", o.timeouts.first_byte_ms)};
    return {AttemptResult::kReset, 0, 0, fmt::format("{}: {}", phase, ec.message())};
  };
  if (wec) co_return classify(wec, "send");
  parser_.emplace();
  parser_->body_limit(boost::none);
  parser_->header_limit(64 * 1024);
  const beast::error_code rec = co_await Feed(s, true);
  conn_->Disarm();  // no deadline between reads (the caller may be writing to a slow client)
  if (rec) co_return classify(rec, "response");
  status_ = parser_->status();
  if (status_ == 429) {
    double retry = 1;
    auto ra = header(http::field::retry_after);
    if (!ra.empty()) {
      double v = 0;
      auto r = std::from_chars(ra.data(), ra.data() + ra.size(), v);
      if (r.ec == std::errc() && v >= 0) retry = v;
    }
    co_return AttemptFailure{AttemptResult::kRateLimited, 429, retry, "HTTP 429"};
  }
  if (status_ >= 500) co_return AttemptFailure{AttemptResult::kServerError, status_, 0, fmt::format("HTTP {}", status_)};
  if (parser_->is_done()) done_ = true;
  co_return std::nullopt;
}

awaitable<std::optional<AttemptFailure>> UpstreamCall::Start(std::string_view path, std::string body, bool stream,
                                                             std::chrono::milliseconds generation,
                                                             const std::vector<std::pair<std::string, std::string>>* headers) {
  const auto& o = pools_.options(backend_);
  generation_ = std::max(std::chrono::milliseconds(0), generation);
  const auto& u = pools_.url(backend_);
  deadline_ = pools_.clock().Now() + std::chrono::milliseconds(o.timeouts.total_ms);
  // The request's bytes, written by hand (net/wire_format.h): head and body in one buffer.
  const std::string target = u.base_path + std::string(path);
  RequestHead head;
  head.target = target;
  head.fields.reserve(8 + (headers ? headers->size() : 0));
  head.fields.emplace_back("Host", u.host);
  head.fields.emplace_back("Content-Type", "application/json");
  head.fields.emplace_back("Accept", stream ? "text/event-stream" : "application/json");
  head.fields.emplace_back("User-Agent", "mecrouter/0.1");
  const auto& auth = pools_.auth_value(backend_);
  if (!auth.empty()) head.fields.emplace_back(o.auth_header, auth);
  if (headers)
    for (const auto& [name, value] : *headers) head.fields.emplace_back(name, value);
  head.content_length = body.size();
  std::string wire;
  wire.reserve(256 + target.size() + body.size());
  AppendRequestHead(head, wire);
  wire += body;
  for (int round = 0; round < 2; ++round) {
    if (cancelled_) co_return AttemptFailure{AttemptResult::kReset, 0, 0, "cancelled"};
    conn_ = round == 0 ? pools_.TakeIdle(backend_) : nullptr;
    const bool reused = conn_ != nullptr;
    if (!conn_) {
      if (auto f = co_await Connect()) co_return f;
      if (cancelled_) co_return AttemptFailure{AttemptResult::kReset, 0, 0, "cancelled"};  // during the resolve
    }
    // No co_await inside a conditional expression: g++ 12 miscompiles it (double destruction).
    std::optional<AttemptFailure> f;
    if (conn_->tls) f = co_await Exchange(*conn_->tls, wire);
    else f = co_await Exchange(*conn_->plain, wire);
    // A pooled connection the server had already closed: try once more on a fresh one.
    if (f && reused && f->result == AttemptResult::kReset && !cancelled_) {
      conn_->Close();  // not only dropped: its deadline timer's wait holds it too
      conn_.reset();
      parser_.reset();
      continue;
    }
    co_return f;
  }
  co_return AttemptFailure{AttemptResult::kReset, 0, 0, "connection closed"};
}

// One coroutine for either stream (a branch at the read, not a frame per stream type).
awaitable<UpstreamCall::Piece> UpstreamCall::ReadSome() {
  if (done_ || !conn_ || !parser_) co_return Piece{};
  const auto& o = pools_.options(backend_);
  for (;;) {
    if (parser_->is_done()) {
      done_ = true;
      co_return Piece{};
    }
    ArmWithin(o.timeouts.idle_ms);
    parser_->lend(chunk_, sizeof chunk_);
    beast::error_code ec;
    if (conn_->tls) ec = co_await Feed(*conn_->tls, false);
    else ec = co_await Feed(*conn_->plain, false);
    conn_->Disarm();
    const size_t got = sizeof chunk_ - parser_->left();
    if (ec && ec != http::error::need_buffer) {
      if (cancelled_) co_return Piece{{}, "cancelled"};
      if (conn_->timed_out)
        co_return Piece{{}, pools_.clock().Now() >= deadline_ ? fmt::format("total timeout ({} ms)", o.timeouts.total_ms)
                                                              : fmt::format("no data for {} ms", o.timeouts.idle_ms)};
      co_return Piece{{}, "upstream connection broke: " + ec.message()};
    }
    if (parser_->is_done()) done_ = true;
    if (got > 0) co_return Piece{std::string_view(chunk_, got), std::nullopt};
    if (done_) co_return Piece{};
  }
}

}  // namespace mec::net

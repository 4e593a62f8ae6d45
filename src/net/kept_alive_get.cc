#include "net/kept_alive_get.h"

#include <fmt/format.h>

namespace mec::net {

namespace ssl = asio::ssl;
namespace {
}  // namespace

KeptAliveGet::KeptAliveGet(UpstreamPools& pools, int backend, std::string label, size_t max_body)
    : pools_(pools), backend_(backend), user_agent_("mecrouter/0.1 " + label), max_body_(max_body) {}

void KeptAliveGet::Abort() {
  if (!plain_ && !tls_) return;
  beast::error_code ec;
  lowest().socket().shutdown(tcp::socket::shutdown_both, ec);
  lowest().socket().close(ec);
}

void KeptAliveGet::Reset() {
  Abort();
  tls_.reset();
  plain_.reset();
  buf_.clear();
  connected_ = false;
}

std::chrono::steady_clock::duration KeptAliveGet::Remaining(TimePoint deadline) const {
  const auto left = std::chrono::duration_cast<std::chrono::steady_clock::duration>(deadline - pools_.clock().Now());
  return std::max<std::chrono::steady_clock::duration>(left, std::chrono::milliseconds(1));
}

awaitable<std::optional<std::string>> KeptAliveGet::Connect(std::chrono::steady_clock::duration budget, int64_t timeout_ms) {
  const auto& u = pools_.url(backend_);
  const auto& o = pools_.options(backend_);
  auto& resolved = pools_.resolved(backend_);
  auto& ioc = pools_.ioc();
  if (!resolved) {
    tcp::resolver resolver(ioc);
    auto [ec, results] = co_await resolver.async_resolve(u.host, u.port, kTuple);
    if (ec) co_return "cannot resolve " + u.host + ": " + ec.message();
    resolved = results;
  }
  Reset();
  if (u.tls) tls_.emplace(ioc, pools_.ssl(backend_));
  else plain_.emplace(ioc);
  auto& low = lowest();
  low.expires_after(budget);
  auto [ec, ep] = co_await low.async_connect(*resolved, kTuple);
  if (ec) {
    if (ec == beast::error::timeout) co_return fmt::format("connect timeout ({} ms)", timeout_ms);
    resolved.reset();  // re-resolve next time
    co_return "connect: " + ec.message();
  }
  low.socket().set_option(tcp::no_delay(true), ec);
  if (u.tls) {
    if (!SSL_set_tlsext_host_name(tls_->native_handle(), u.host.c_str())) co_return std::string("TLS: cannot set SNI");
    if (o.tls_verify) tls_->set_verify_callback(ssl::host_name_verification(u.host));
    auto [hec] = co_await tls_->async_handshake(ssl::stream_base::client, kTuple);
    if (hec) co_return "TLS handshake: " + hec.message();
  }
  connected_ = true;
  co_return std::nullopt;
}

template <typename Stream>
awaitable<std::optional<std::string>> KeptAliveGet::Exchange(Stream& s, const http::request<http::empty_body>& req,
                                                             TimePoint deadline, GetReply& reply, bool& keep_alive) {
  auto& low = lowest();
  low.expires_after(Remaining(deadline));
  auto [wec, wn] = co_await http::async_write(s, req, kTuple);
  if (wec) {
    reply.timed_out = wec == beast::error::timeout;
    co_return "send: " + wec.message();
  }
  http::response_parser<http::string_body> parser;
  parser.body_limit(max_body_);
  parser.header_limit(64 * 1024);
  auto [hec, hn] = co_await http::async_read_header(s, buf_, parser, kTuple);
  if (hec) {
    reply.timed_out = hec == beast::error::timeout;
    co_return "response: " + hec.message();
  }
  reply.head_at = pools_.clock().Now();
  reply.status = parser.get().result_int();
  auto [rec, rn] = co_await http::async_read(s, buf_, parser, kTuple);
  if (rec) {
    reply.timed_out = rec == beast::error::timeout;
    co_return "response body: " + rec.message();
  }
  keep_alive = parser.keep_alive();
  reply.body = std::move(parser.get().body());
  co_return std::nullopt;
}

awaitable<GetReply> KeptAliveGet::Get(const std::string& target, std::chrono::milliseconds timeout, std::string_view accept) {
  const auto& o = pools_.options(backend_);
  const auto& u = pools_.url(backend_);
  const TimePoint deadline = pools_.clock().Now() + timeout;
  const int64_t timeout_ms = timeout.count();
  GetReply r;
  if (u.host.empty()) {
    r.error = "bad URL";
    co_return r;
  }
  http::request<http::empty_body> req{http::verb::get, target, 11};
  req.set(http::field::host, u.host);
  req.set(http::field::accept, accept);
  req.set(http::field::user_agent, user_agent_);
  const auto& auth = pools_.auth_value(backend_);
  if (!auth.empty()) req.set(o.auth_header, auth);
  req.keep_alive(true);
  for (int round = 0; round < 2; ++round) {
    const bool reused = connected_;
    if (!connected_) {
      std::optional<std::string> cerr = co_await Connect(Remaining(deadline), timeout_ms);
      if (cerr) {
        Reset();
        r.error = std::move(*cerr);
        co_return r;
      }
    }
    r = GetReply{};
    r.sent = pools_.clock().Now();
    bool keep_alive = false;
    // No co_await inside a conditional expression: g++ 12 miscompiles it (see upstream_client.cc).
    std::optional<std::string> err;
    if (tls_) err = co_await Exchange(*tls_, req, deadline, r, keep_alive);
    else err = co_await Exchange(*plain_, req, deadline, r, keep_alive);
    if (err) {
      Reset();
      // A kept-alive connection the server had closed since the last GET: once more, fresh.
      if (reused && r.status == 0 && !r.timed_out && !cancelled_) continue;
      r.error = r.timed_out ? fmt::format("no answer within {} ms", timeout_ms) : std::move(*err);
      co_return r;
    }
    if (!keep_alive) Reset();
    co_return r;
  }
  r.error = "connection closed";
  co_return r;
}

}  // namespace mec::net

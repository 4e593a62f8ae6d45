#include "net/health_prober.h"

#include <fmt/format.h>

namespace mec::net {

namespace ssl = asio::ssl;
namespace {
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr size_t kMaxBody = 4 << 20;  // GET /models lists can be long (hundreds of models)
}  // namespace

// One backend's checker: its timer, its random stream and its kept-alive connection.
struct HealthProber::Probe {
  Probe(asio::io_context& ioc, uint64_t seed, const std::string& name)
      : timer(ioc), rng(seed, "health-check/" + name) {}

  beast::tcp_stream& lowest() { return tls ? beast::get_lowest_layer(*tls) : *plain; }
  // Closes the socket; pending operations complete with an error. Safe while one is pending.
  void Abort() {
    if (!plain && !tls) return;
    beast::error_code ec;
    lowest().socket().shutdown(tcp::socket::shutdown_both, ec);
    lowest().socket().close(ec);
  }
  // Forgets the connection. REQUIRES: no operation pending on it.
  void Reset() {
    Abort();
    tls.reset();
    plain.reset();
    buf.clear();
    connected = false;
  }

  asio::steady_timer timer;
  Rng rng;
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls;
  beast::flat_buffer buf;
  bool connected = false;
};

HealthProber::HealthProber(asio::io_context& ioc, UpstreamPools& pools, BackendMonitor& monitor, const Clock& clock,
                           uint64_t seed, Duration publish_every)
    : ioc_(ioc),
      strand_(asio::make_strand(ioc)),
      pools_(pools),
      monitor_(monitor),
      clock_(clock),
      publish_every_(publish_every),
      publish_timer_(ioc) {
  const size_t n = monitor.Current().backends.size();  // the monitor's pool; pools has the same backends
  for (size_t b = 0; b < n; ++b) probes_.push_back(std::make_unique<Probe>(ioc, seed, pools.options(static_cast<int>(b)).name));
}

HealthProber::~HealthProber() = default;

void HealthProber::Start() {
  for (size_t b = 0; b < probes_.size(); ++b) {
    if (!pools_.options(static_cast<int>(b)).health_check.enabled) continue;
    ++active_;
    asio::co_spawn(strand_, ProbeLoop(static_cast<int>(b)), asio::detached);
  }
  if (publish_every_ > Duration::zero()) {
    ++active_;
    asio::co_spawn(strand_, PublishLoop(), asio::detached);
  }
}

void HealthProber::Stop() {
  if (stopped_.exchange(true)) return;
  asio::post(strand_, [this] {
    publish_timer_.cancel();
    for (auto& p : probes_) {
      p->timer.cancel();
      p->Abort();
    }
  });
}

std::chrono::steady_clock::duration HealthProber::Remaining(TimePoint deadline) const {
  const auto left = std::chrono::duration_cast<std::chrono::steady_clock::duration>(deadline - clock_.Now());
  return std::max<std::chrono::steady_clock::duration>(left, std::chrono::milliseconds(1));
}

awaitable<std::optional<std::string>> HealthProber::Connect(int b, std::chrono::steady_clock::duration budget) {
  Probe& p = *probes_[b];
  const auto& u = pools_.url(b);
  const auto& o = pools_.options(b);
  auto& resolved = pools_.resolved(b);
  if (!resolved) {
    tcp::resolver resolver(ioc_);
    auto [ec, results] = co_await resolver.async_resolve(u.host, u.port, kTuple);
    if (ec) co_return "cannot resolve " + u.host + ": " + ec.message();
    resolved = results;
  }
  p.Reset();
  if (u.tls) p.tls.emplace(ioc_, pools_.ssl(b));
  else p.plain.emplace(ioc_);
  auto& low = p.lowest();
  low.expires_after(budget);
  auto [ec, ep] = co_await low.async_connect(*resolved, kTuple);
  if (ec) {
    if (ec == beast::error::timeout) co_return fmt::format("connect timeout ({} ms)", o.health_check.timeout_ms);
    resolved.reset();  // re-resolve next time
    co_return "connect: " + ec.message();
  }
  low.socket().set_option(tcp::no_delay(true), ec);
  if (u.tls) {
    if (!SSL_set_tlsext_host_name(p.tls->native_handle(), u.host.c_str())) co_return std::string("TLS: cannot set SNI");
    if (o.tls_verify) p.tls->set_verify_callback(ssl::host_name_verification(u.host));
    auto [hec] = co_await p.tls->async_handshake(ssl::stream_base::client, kTuple);
    if (hec) co_return "TLS handshake: " + hec.message();
  }
  p.connected = true;
  co_return std::nullopt;
}

template <typename Stream>
awaitable<std::optional<std::string>> HealthProber::Exchange(Stream& s, Probe& p,
                                                             const http::request<http::empty_body>& req,
                                                             TimePoint deadline, TimePoint& head_at, int& status,
                                                             bool& keep_alive, bool& timed_out) {
  auto& low = p.lowest();
  const auto budget = Remaining(deadline);
  low.expires_after(budget);
  auto [wec, wn] = co_await http::async_write(s, req, kTuple);
  timed_out = false;
  if (wec) {
    timed_out = wec == beast::error::timeout;
    co_return "send: " + wec.message();
  }
  http::response_parser<http::string_body> parser;
  parser.body_limit(kMaxBody);
  parser.header_limit(64 * 1024);
  auto [hec, hn] = co_await http::async_read_header(s, p.buf, parser, kTuple);
  if (hec) {
    timed_out = hec == beast::error::timeout;
    co_return "response: " + hec.message();
  }
  head_at = clock_.Now();
  status = parser.get().result_int();
  auto [rec, rn] = co_await http::async_read(s, p.buf, parser, kTuple);
  if (rec) {
    timed_out = rec == beast::error::timeout;
    co_return "response body: " + rec.message();
  }
  keep_alive = parser.keep_alive();
  co_return std::nullopt;
}

awaitable<HealthCheckResult> HealthProber::CheckOnce(int b) {
  Probe& p = *probes_[b];
  const auto& o = pools_.options(b);
  const auto& u = pools_.url(b);
  HealthCheckResult r;
  if (u.host.empty()) {
    r.detail = "bad URL";
    co_return r;
  }
  const TimePoint deadline = clock_.Now() + std::chrono::milliseconds(o.health_check.timeout_ms);
  http::request<http::empty_body> req{http::verb::get, u.base_path + o.health_check.path, 11};
  req.set(http::field::host, u.host);
  req.set(http::field::accept, "application/json");
  req.set(http::field::user_agent, "mecrouter/0.1 health-check");
  const auto& auth = pools_.auth_value(b);
  if (!auth.empty()) req.set(o.auth_header, auth);
  req.keep_alive(true);
  for (int round = 0; round < 2; ++round) {
    const bool reused = p.connected;
    if (!p.connected) {
      const auto budget = Remaining(deadline);
      std::optional<std::string> cerr = co_await Connect(b, budget);
      if (cerr) {
        p.Reset();
        r.detail = std::move(*cerr);
        co_return r;
      }
    }
    const TimePoint sent = clock_.Now();
    TimePoint head_at = sent;
    int status = 0;
    bool keep_alive = false;
    bool timed_out = false;
    // No co_await inside a conditional expression: g++ 12 miscompiles it (see upstream_client.cc).
    std::optional<std::string> err;
    if (p.tls) err = co_await Exchange(*p.tls, p, req, deadline, head_at, status, keep_alive, timed_out);
    else err = co_await Exchange(*p.plain, p, req, deadline, head_at, status, keep_alive, timed_out);
    if (err) {
      p.Reset();
      // A kept-alive connection the server had closed since the last check: once more, fresh.
      if (reused && status == 0 && !timed_out && !stopped_) continue;
      r.status = status;
      r.detail = timed_out ? fmt::format("no answer within {} ms", o.health_check.timeout_ms) : std::move(*err);
      co_return r;
    }
    if (!keep_alive) p.Reset();
    r.status = status;
    r.ok = status >= 200 && status < 300;
    if (r.ok) r.rtt_s = ToSeconds(head_at - sent);
    else r.detail = fmt::format("HTTP {}", status);
    co_return r;
  }
  r.detail = "connection closed";
  co_return r;
}

awaitable<void> HealthProber::ProbeLoop(int b) {
  Probe& p = *probes_[b];
  while (!stopped_) {
    HealthCheckResult r;
    try {
      r = co_await CheckOnce(b);
    } catch (const std::exception& e) {
      p.Reset();
      r = HealthCheckResult{false, 0, std::nullopt, std::string("health check: ") + e.what()};
    }
    if (stopped_) break;
    const TimePoint now = clock_.Now();
    const bool changed = monitor_.OnHealthCheck(b, r.ok, r.rtt_s, now);
    if (changed) monitor_.Publish(now);
    if (on_result_) on_result_(b, r, changed);
    const Duration delay = monitor_.NextHealthCheckDelay(b, p.rng);
    p.timer.expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(delay));
    auto [ec] = co_await p.timer.async_wait(kTuple);
    (void)ec;
  }
  p.Reset();
  --active_;
}

awaitable<void> HealthProber::PublishLoop() {
  const auto every = std::chrono::duration_cast<std::chrono::steady_clock::duration>(publish_every_);
  while (!stopped_) {
    publish_timer_.expires_after(every);
    auto [ec] = co_await publish_timer_.async_wait(kTuple);
    (void)ec;
    if (stopped_) break;
    monitor_.Publish(clock_.Now());
  }
  --active_;
}

}  // namespace mec::net

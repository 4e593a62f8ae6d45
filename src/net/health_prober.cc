#include "net/health_prober.h"

#include <fmt/format.h>

#include "net/kept_alive_get.h"

namespace mec::net {

namespace {
constexpr size_t kMaxModelsBody = 4 << 20;  // GET /models lists can be long (hundreds of models)
}  // namespace

// One backend's checker: its timer, its random stream and its kept-alive connection.
struct HealthProber::Probe {
  Probe(asio::io_context& ioc, uint64_t seed, UpstreamPools& pools, int b)
      : timer(ioc), rng(seed, "health-check/" + pools.options(b).name), conn(pools, b, "health-check", kMaxModelsBody) {}

  asio::steady_timer timer;
  Rng rng;
  KeptAliveGet conn;
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
  for (size_t b = 0; b < n; ++b) probes_.push_back(std::make_unique<Probe>(ioc, seed, pools, static_cast<int>(b)));
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
      p->conn.Cancel();
    }
  });
}

awaitable<HealthCheckResult> HealthProber::CheckOnce(int b) {
  const auto& o = pools_.options(b);
  GetReply g = co_await probes_[b]->conn.Get(pools_.url(b).base_path + o.health_check.path,
                                             std::chrono::milliseconds(o.health_check.timeout_ms), "application/json");
  HealthCheckResult r;
  r.status = g.status;
  if (g.error) {
    r.detail = std::move(*g.error);
    co_return r;
  }
  r.ok = g.status >= 200 && g.status < 300;
  if (r.ok) r.rtt_s = ToSeconds(g.head_at - g.sent);
  else r.detail = fmt::format("HTTP {}", g.status);
  co_return r;
}

awaitable<void> HealthProber::ProbeLoop(int b) {
  Probe& p = *probes_[b];
  while (!stopped_) {
    HealthCheckResult r;
    try {
      r = co_await CheckOnce(b);
    } catch (const std::exception& e) {
      p.conn.Reset();
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
  p.conn.Reset();
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

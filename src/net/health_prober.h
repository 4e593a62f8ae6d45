#pragma once
// Active health checks over the network (the I/O half of backend/health_checker.h): for every
// backend with health_check.enabled, one coroutine sends GET <base path><health_check.path> with
// the backend's credential header, waits `timeout_ms` at most, and reports pass (2xx) or fail and
// the measured round trip to BackendMonitor::OnHealthCheck; then it sleeps
// BackendMonitor::NextHealthCheckDelay (interval +- jitter) and checks again. The first check
// runs at Start(). A health change publishes a new snapshot at once; besides, a timer publishes
// one every `publish_every` (100 ms) so that in-flight counts and estimates in the snapshot stay fresh.
//
// Round trip: measured with the injected Clock from sending the request to receiving the response
// head, on a connection kept alive between checks (a fresh connection's TCP/TLS handshake is not
// counted), so it is ~ network RTT + the server's time to answer GET /models.
//
// Threading: all coroutines run on a strand of `ioc`; Start() and Stop() may be called from any
// thread. `pools` must be built over the same backends, in the same order, as the monitor's pool,
// and is used by the prober alone (UpstreamPools is single-threaded): give it its own.
// REQUIRES before destruction: Stop() was called and the io_context has finished the prober's work
// (its run() returned, or active() == 0), or the io_context never runs again.

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "backend/backend_monitor.h"
#include "core/clock.h"
#include "net/upstream_client.h"

namespace mec::net {

struct HealthCheckResult {
  bool ok = false;              // a 2xx answer within the timeout
  int status = 0;               // HTTP status, 0 if none arrived
  std::optional<double> rtt_s;  // set when ok
  std::string detail;           // why it failed, one line
};

class HealthProber {
 public:
  static constexpr Duration kDefaultPublishEvery = std::chrono::milliseconds(100);

  HealthProber(asio::io_context& ioc, UpstreamPools& pools, BackendMonitor& monitor, const Clock& clock,
               uint64_t seed, Duration publish_every = kDefaultPublishEvery);
  ~HealthProber();
  HealthProber(const HealthProber&) = delete;
  HealthProber& operator=(const HealthProber&) = delete;

  // Called on the strand after every check (for logs): the result and whether health changed.
  // REQUIRES: set before Start().
  using ResultHook = std::function<void(int backend, const HealthCheckResult& r, bool changed)>;
  void set_on_result(ResultHook hook) { on_result_ = std::move(hook); }

  // Spawns the probe coroutines and the publish timer. Call once.
  void Start();
  // Cancels timers and in-progress checks; the coroutines end soon after. Idempotent.
  void Stop();
  // Coroutines still running.
  int active() const { return active_.load(); }

  // One check of backend `b`, without reporting it (also used by the loops). Runs on the caller's
  // executor; REQUIRES: no other check of `b` in progress.
  awaitable<HealthCheckResult> CheckOnce(int b);

 private:
  struct Probe;
  awaitable<void> ProbeLoop(int b);
  awaitable<void> PublishLoop();

  asio::io_context& ioc_;
  asio::strand<asio::io_context::executor_type> strand_;
  UpstreamPools& pools_;
  BackendMonitor& monitor_;
  const Clock& clock_;
  const Duration publish_every_;
  std::vector<std::unique_ptr<Probe>> probes_;
  asio::steady_timer publish_timer_;
  ResultHook on_result_;
  std::atomic<bool> stopped_{false};
  std::atomic<int> active_{0};
};

}  // namespace mec::net

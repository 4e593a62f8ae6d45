#pragma once
// The pulling end of the fleet state (docs/fleet.md; the I/O half of backend/fleet_priors.h): one
// coroutine GETs fleet.url with `Authorization: Bearer $fleet.token_env` every interval_s, parses
// the answer (backend/fleet_state.h) and applies it to the BackendMonitor as priors valid for
// stale_s, then publishes a snapshot. With a QualityFeedback, the publisher's feedback per
// (backend, task class) becomes its remote sums (QualityFeedback::SetRemote, each pair at most
// fleet.quality_max_weight scores), cleared once the last good pull is stale_s old. A failed pull (unreachable, an HTTP error such as 401, a
// malformed payload) changes nothing: the last pull's priors lapse stale_s after it, and routing
// is back on the configured priors. Failures are logged once when they start or change kind, and
// once when pulls succeed again, never every interval.
//
// Off the request path: it runs on the io_context it is given (the gateway gives it the health
// prober's, on a thread of its own); a pull has min(interval_s / 2, 5 s) in all, and requests never
// wait for it. Time comes from the injected Clock.
// Threading: the coroutine runs on a strand of `ioc`; Start() and Stop() from any thread;
// status(), MetricsText() and Json() from any thread.
// REQUIRES before destruction: Stop() was called and the io_context has finished the poller's
// work (run() returned, or active() == 0), or the io_context never runs again.

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "backend/backend_monitor.h"
#include "backend/backend_pool.h"
#include "backend/fleet_priors.h"
#include "config/options.h"
#include "core/clock.h"
#include "net/upstream_client.h"

namespace mec {
class QualityFeedback;
}

namespace mec::net {

class KeptAliveGet;

enum class FleetPullResult { kOk, kUnreachable, kRefused, kMalformed };
const char* FleetPullResultName(FleetPullResult r);  // ok | unreachable | refused | malformed

struct FleetPullStatus {
  uint64_t pulls[4] = {0, 0, 0, 0};        // by FleetPullResult
  std::optional<TimePoint> last_ok;        // when the last good pull was applied
  int64_t generated_unix_ms = 0;           // the publisher's time of the last good pull
  int matched = 0, down = 0;               // of the last good pull (FleetApplyResult)
  int quality_classes = 0;                 // (backend, task class) pairs of feedback applied; 0 once stale
  std::string last_error;                  // of the last failed pull; "" after a success
};

class FleetPoller {
 public:
  // REQUIRES: options.url is set; pool, monitor and feedback (null: quality not applied) outlive
  // the poller.
  FleetPoller(asio::io_context& ioc, const FleetOptions& options, const BackendPool& pool, BackendMonitor& monitor,
              const Clock& clock, QualityFeedback* feedback = nullptr);
  ~FleetPoller();
  FleetPoller(const FleetPoller&) = delete;
  FleetPoller& operator=(const FleetPoller&) = delete;

  // Called on the strand when pulls start failing, change kind of failure, or succeed again.
  // REQUIRES: set before Start().
  using LogHook = std::function<void(const std::string& line)>;
  void set_on_log(LogHook hook) { on_log_ = std::move(hook); }

  void Start();  // spawns the loop; the first pull at once. Call once.
  void Stop();   // cancels the timer and a pull in progress. Idempotent.
  int active() const { return active_.load(); }

  // One pull, applied and recorded (what the loop runs). REQUIRES: no other pull in progress.
  awaitable<FleetPullResult> PullOnce();

  // Clears the fleet's quality sums once the last good pull is stale_s old at `now` (the loop
  // calls it after every pull; the latency priors lapse on their own).
  void ExpireQuality(TimePoint now);

  FleetPullStatus status() const;
  // mecrouter_fleet_pull_total{result}, mecrouter_fleet_state_age_seconds (seconds since the
  // last good pull; absent before one), mecrouter_fleet_state_fresh (1 while its priors apply),
  // mecrouter_fleet_backends{state="matched"|"down"}, mecrouter_fleet_quality_classes.
  std::string MetricsText(TimePoint now) const;
  // GET /api/fleet: url, interval, the counters, fresh, age_s, generated_unix_ms, matched, down,
  // quality_classes, last_error.
  std::string Json(TimePoint now) const;

 private:
  awaitable<void> Loop();
  void Record(FleetPullResult r, const std::string& error);

  const FleetOptions options_;
  const BackendPool& pool_;
  BackendMonitor& monitor_;
  const Clock& clock_;
  QualityFeedback* const feedback_;
  asio::strand<asio::io_context::executor_type> strand_;
  std::unique_ptr<UpstreamPools> pools_;  // one pseudo-backend: the publisher
  std::unique_ptr<KeptAliveGet> conn_;
  std::string target_;
  asio::steady_timer timer_;
  LogHook on_log_;
  std::optional<FleetPullResult> logged_;  // the last result logged (strand only)
  mutable std::mutex mu_;
  FleetPullStatus status_;  // guarded by mu_
  std::atomic<bool> stopped_{false};
  std::atomic<int> active_{0};
};

}  // namespace mec::net

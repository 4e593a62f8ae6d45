#include "net/fleet_poller.h"

#include <algorithm>

#include <fmt/format.h>

#include "backend/fleet_state.h"
#include "core/json_writer.h"
#include "learn/quality_feedback.h"
#include "net/kept_alive_get.h"

namespace mec::net {

namespace {
constexpr size_t kMaxFleetBody = 4 << 20;  // ~300 bytes per backend

// The publisher as a pseudo-backend, so that the kept-alive GET brings its TLS, resolution and
// bearer token (api_key_env) along.
std::vector<BackendOptions> Publisher(const FleetOptions& o) {
  BackendOptions b;
  b.name = "fleet";
  b.tier = Tier::kCloud;
  b.url = o.url;
  b.api_key_env = o.token_env;
  b.auth_header = "Authorization";
  b.tls_verify = o.tls_verify;
  return {b};
}

std::chrono::milliseconds PullTimeout(double interval_s) {
  return std::chrono::milliseconds(static_cast<int64_t>(std::clamp(interval_s * 500, 100.0, 5000.0)));
}

std::string OneLine(std::string s, size_t max) {
  if (s.size() > max) s.resize(max);
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return s;
}

// The publisher's feedback on the backends configured here (same name and tier).
std::vector<QualityCount> LocalClasses(const std::vector<FleetClassQuality>& remote, const BackendPool& pool) {
  std::vector<QualityCount> out;
  for (const auto& q : remote)
    for (const auto& b : pool.all())
      if (b->name() == q.backend && TierName(b->tier()) == q.tier) {
        out.push_back({q.backend, q.task_class, q.score, q.n});
        break;
      }
  return out;
}

}  // namespace

const char* FleetPullResultName(FleetPullResult r) {
  switch (r) {
    case FleetPullResult::kOk: return "ok";
    case FleetPullResult::kUnreachable: return "unreachable";
    case FleetPullResult::kRefused: return "refused";
    case FleetPullResult::kMalformed: return "malformed";
  }
  return "?";
}

FleetPoller::FleetPoller(asio::io_context& ioc, const FleetOptions& options, const BackendPool& pool, BackendMonitor& monitor,
                         const Clock& clock, QualityFeedback* feedback)
    : options_(options),
      pool_(pool),
      monitor_(monitor),
      clock_(clock),
      feedback_(feedback),
      strand_(asio::make_strand(ioc)),
      pools_(std::make_unique<UpstreamPools>(ioc, clock, Publisher(options))),
      conn_(std::make_unique<KeptAliveGet>(*pools_, 0, "fleet-pull", kMaxFleetBody)),
      target_(pools_->url(0).base_path.empty() ? "/" : pools_->url(0).base_path),
      timer_(ioc) {}

FleetPoller::~FleetPoller() = default;

void FleetPoller::Start() {
  ++active_;
  asio::co_spawn(strand_, Loop(), asio::detached);
}

void FleetPoller::Stop() {
  if (stopped_.exchange(true)) return;
  asio::post(strand_, [this] {
    timer_.cancel();
    conn_->Cancel();
  });
}

awaitable<FleetPullResult> FleetPoller::PullOnce() {
  GetReply g = co_await conn_->Get(target_, PullTimeout(options_.interval_s), "application/json");
  if (g.error) {
    Record(FleetPullResult::kUnreachable, "GET " + options_.url + ": " + *g.error);
    co_return FleetPullResult::kUnreachable;
  }
  if (g.status < 200 || g.status >= 300) {
    Record(FleetPullResult::kRefused, fmt::format("GET {}: HTTP {}: {}", options_.url, g.status, OneLine(g.body, 200)));
    co_return FleetPullResult::kRefused;
  }
  Result<FleetState> st = ParseFleetState(g.body);
  if (!st.ok()) {
    Record(FleetPullResult::kMalformed, "GET " + options_.url + ": " + st.status().message());
    co_return FleetPullResult::kMalformed;
  }
  const TimePoint now = clock_.Now();
  FleetApplyOptions o;
  o.max_weight = options_.max_weight;
  o.valid_for = FromSeconds(options_.stale_s);
  o.down_for_unhealthy = FromSeconds(options_.interval_s);
  const FleetApplyResult applied = ApplyFleetState(*st, pool_, monitor_, o, now);
  monitor_.Publish(now);  // routing sees the priors at once, not at the next timer
  size_t classes = 0;
  if (feedback_ && options_.quality_max_weight > 0)
    classes = feedback_->SetRemote(LocalClasses(st->quality.classes, pool_), options_.quality_max_weight);
  {
    std::lock_guard lock(mu_);
    status_.last_ok = now;
    status_.generated_unix_ms = st->generated_unix_ms;
    status_.matched = applied.matched;
    status_.down = applied.down;
    status_.quality_classes = static_cast<int>(classes);
  }
  Record(FleetPullResult::kOk, "");
  co_return FleetPullResult::kOk;
}

void FleetPoller::Record(FleetPullResult r, const std::string& error) {
  {
    std::lock_guard lock(mu_);
    ++status_.pulls[static_cast<int>(r)];
    status_.last_error = error;
  }
  // Logged once per change of kind (a malformed payload is logged once, not every interval).
  const bool changed = logged_ ? *logged_ != r : r != FleetPullResult::kOk;
  if (on_log_ && changed)
    on_log_(r == FleetPullResult::kOk ? "fleet state pulled again from " + options_.url
                                      : "fleet state not applied (" + std::string(FleetPullResultName(r)) + "): " + error);
  logged_ = r;
}

awaitable<void> FleetPoller::Loop() {
  const Duration interval = FromSeconds(options_.interval_s);
  while (!stopped_) {
    const TimePoint started = clock_.Now();
    try {
      co_await PullOnce();
    } catch (const std::exception& e) {  // never out of the coroutine
      conn_->Reset();
      Record(FleetPullResult::kUnreachable, std::string("fleet pull: ") + e.what());
    }
    ExpireQuality(clock_.Now());
    if (stopped_) break;
    const Duration wait = std::max(Duration::zero(), interval - (clock_.Now() - started));
    timer_.expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(wait));
    auto [ec] = co_await timer_.async_wait(kTuple);
    (void)ec;
  }
  conn_->Reset();
  --active_;
}

// The latency priors lapse on their own (their `until`); the quality sums are cleared here, on the
// first loop turn after the last good pull went stale.
void FleetPoller::ExpireQuality(TimePoint now) {
  if (!feedback_) return;
  {
    std::lock_guard lock(mu_);
    if (status_.quality_classes == 0 || !status_.last_ok || now - *status_.last_ok < FromSeconds(options_.stale_s)) return;
    status_.quality_classes = 0;
  }
  feedback_->ClearRemote();
}

FleetPullStatus FleetPoller::status() const {
  std::lock_guard lock(mu_);
  return status_;
}

std::string FleetPoller::MetricsText(TimePoint now) const {
  const FleetPullStatus st = status();
  const bool fresh = st.last_ok && now - *st.last_ok < FromSeconds(options_.stale_s);
  std::string out =
      "# HELP mecrouter_fleet_pull_total Pulls of the fleet state (fleet.url), by result\n"
      "# TYPE mecrouter_fleet_pull_total counter\n";
  for (FleetPullResult r : {FleetPullResult::kOk, FleetPullResult::kUnreachable, FleetPullResult::kRefused, FleetPullResult::kMalformed})
    out += fmt::format("mecrouter_fleet_pull_total{{result=\"{}\"}} {}\n", FleetPullResultName(r), st.pulls[static_cast<int>(r)]);
  out += "# HELP mecrouter_fleet_state_age_seconds Seconds since the last fleet state was applied\n"
         "# TYPE mecrouter_fleet_state_age_seconds gauge\n";
  if (st.last_ok) out += fmt::format("mecrouter_fleet_state_age_seconds {:.3f}\n", ToSeconds(now - *st.last_ok));
  out += "# HELP mecrouter_fleet_state_fresh 1 while the last fleet state's priors apply (younger than fleet.stale_s)\n"
         "# TYPE mecrouter_fleet_state_fresh gauge\n";
  out += fmt::format("mecrouter_fleet_state_fresh {}\n", fresh ? 1 : 0);
  out += "# HELP mecrouter_fleet_backends Backends of the last fleet state found here, and those it reports down\n"
         "# TYPE mecrouter_fleet_backends gauge\n";
  out += fmt::format("mecrouter_fleet_backends{{state=\"matched\"}} {}\nmecrouter_fleet_backends{{state=\"down\"}} {}\n", st.matched, st.down);
  out += "# HELP mecrouter_fleet_quality_classes (backend, task class) pairs of the fleet's feedback applied as remote quality sums\n"
         "# TYPE mecrouter_fleet_quality_classes gauge\n";
  out += fmt::format("mecrouter_fleet_quality_classes {}\n", st.quality_classes);
  return out;
}

std::string FleetPoller::Json(TimePoint now) const {
  const FleetPullStatus st = status();
  std::string out;
  JsonWriter w(out);
  w.BeginObject().Field("pulling", true).Field("url", options_.url).Field("interval_s", options_.interval_s).Field("stale_s", options_.stale_s);
  w.Key("pulls").BeginObject();
  for (FleetPullResult r : {FleetPullResult::kOk, FleetPullResult::kUnreachable, FleetPullResult::kRefused, FleetPullResult::kMalformed})
    w.Field(FleetPullResultName(r), st.pulls[static_cast<int>(r)]);
  w.EndObject();
  w.Field("fresh", st.last_ok && now - *st.last_ok < FromSeconds(options_.stale_s));
  w.Key("age_s");
  if (st.last_ok) w.Number(ToSeconds(now - *st.last_ok));
  else w.Null();
  w.Field("generated_unix_ms", st.generated_unix_ms).Field("matched", st.matched).Field("down", st.down);
  w.Field("quality_classes", st.quality_classes).Field("last_error", st.last_error);
  w.EndObject();
  return out;
}

}  // namespace mec::net

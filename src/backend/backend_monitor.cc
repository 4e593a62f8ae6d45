#include "backend/backend_monitor.h"

#include <algorithm>

#include "backend/health_checker.h"
#include "backend/latency_estimator.h"
#include "backend/outlier_detector.h"

namespace mec {
namespace {

// Publications beyond which the oldest retained snapshot is freed even if younger than
// kMinRetention (bounds memory if someone publishes in a tight loop).
constexpr size_t kMaxRetained = 4096;

// Time-decayed shares of failed and rate-limited attempts, with one pseudo-success as prior so
// that a single failure reads 0.5, not 1.
class AttemptMix {
 public:
  explicit AttemptMix(Duration half_life) : half_life_(half_life) {}
  void Add(AttemptResult r, TimePoint now) {
    if (SaysNothing(r)) return;
    if (now > last_) {
      const double f = DecayFactor(now - last_, half_life_);
      total_ *= f;
      failed_ *= f;
      limited_ *= f;
      last_ = now;
    }
    total_ += 1;
    if (IsFailure(r)) failed_ += 1;
    if (r == AttemptResult::kRateLimited) limited_ += 1;
  }
  // Shares decay together, so the ratio only moves through the prior's growing weight.
  double FailedShare(TimePoint now) const { return Share(failed_, now); }
  double LimitedShare(TimePoint now) const { return Share(limited_, now); }

 private:
  double Share(double x, TimePoint now) const {
    const double f = now > last_ ? DecayFactor(now - last_, half_life_) : 1.0;
    return x * f / (total_ * f + 1);
  }
  Duration half_life_;
  double total_ = 0, failed_ = 0, limited_ = 0;
  TimePoint last_{};
};

}  // namespace

struct BackendMonitor::State {
  State(const BackendOptions& o, const BackendPriors& p)
      : rtt(p.rtt, p.half_life),
        ttft(p.ttft, p.half_life),
        tpot(p.tpot, p.half_life),
        outlier(o.outlier, std::chrono::milliseconds(o.timeouts.total_ms)),
        health(o.health_check),
        mix(p.half_life) {}

  mutable std::mutex mu;  // guards everything below
  LatencyEstimator rtt, ttft, tpot;
  OutlierDetector outlier;
  HealthChecker health;
  AttemptMix mix;
};

BackendMonitor::BackendMonitor(const BackendPool& pool, TimePoint now) : pool_(pool) {
  states_.reserve(pool.size());
  for (size_t i = 0; i < pool.size(); ++i) {
    const auto& o = pool.at(i).options();
    states_.push_back(std::make_unique<State>(o, PriorsFor(o)));
  }
  Publish(now);
}

BackendMonitor::~BackendMonitor() = default;

bool BackendMonitor::OnAttemptEnd(int backend, const AttemptOutcome& outcome, TimePoint now) {
  State& s = *states_.at(backend);
  const AttemptResult r = outcome.result;
  std::lock_guard lock(s.mu);
  const bool changed = s.outlier.OnResult(r, now);
  if (outcome.ttft_s) {
    s.ttft.Observe(*outcome.ttft_s, now);
  } else if (outcome.waited_s && *outcome.waited_s > s.ttft.Estimate(now).Median()) {
    s.ttft.Observe(*outcome.waited_s, now);  // censored: at least this slow
  }
  if (outcome.tpot_s) s.tpot.Observe(*outcome.tpot_s, now);
  s.mix.Add(r, now);
  return changed;
}

void BackendMonitor::OnRemoteObservation(int backend, std::optional<double> ttft_s, std::optional<double> tpot_s,
                                         double weight, TimePoint now) {
  State& s = *states_.at(backend);
  std::lock_guard lock(s.mu);
  if (ttft_s && *ttft_s > 0) s.ttft.Observe(*ttft_s, now, weight);
  if (tpot_s && *tpot_s > 0) s.tpot.Observe(*tpot_s, now, weight);
}

bool BackendMonitor::OnRemoteEjection(int backend, Duration d, TimePoint now) {
  State& s = *states_.at(backend);
  std::lock_guard lock(s.mu);
  return s.outlier.EjectFor(d, now);
}

bool BackendMonitor::OnFleetPrior(int backend, const FleetPrior& prior, TimePoint until, TimePoint now) {
  State& s = *states_.at(backend);
  std::lock_guard lock(s.mu);
  for (auto [est, p] : {std::pair{&s.ttft, &prior.ttft}, std::pair{&s.tpot, &prior.tpot}}) {
    if (*p) est->OverridePrior(**p, until);
    else est->ClearPriorOverride();
  }
  // Re-reported every pull: only a real lengthening counts (and is counted as a peer ejection).
  if (prior.down_for <= s.outlier.ejected_for(now) + std::chrono::seconds(1)) return false;
  return s.outlier.EjectFor(prior.down_for, now);
}

bool BackendMonitor::OnHealthCheck(int backend, bool ok, std::optional<double> rtt_s, TimePoint now) {
  State& s = *states_.at(backend);
  std::lock_guard lock(s.mu);
  if (ok && rtt_s) s.rtt.Observe(*rtt_s, now);
  const bool health_changed = s.health.OnResult(ok);
  // A pass ends an ejection's wait (half-open: one real request probes; outlier_detector.h).
  const bool unejected = ok && pool_.at(backend).options().outlier.uneject_on_health_check && s.outlier.OnHealthCheckPassed(now);
  return health_changed || unejected;
}

bool BackendMonitor::TryClaimProbe(int backend, TimePoint now) {
  State& s = *states_.at(backend);
  std::lock_guard lock(s.mu);
  return s.outlier.TryClaimProbe(now);
}

bool BackendMonitor::AdmitAttempt(int backend, TimePoint now) {
  State& s = *states_.at(backend);
  std::lock_guard lock(s.mu);
  switch (s.outlier.state(now)) {
    case OutlierState::kClosed: return true;
    case OutlierState::kHalfOpen: return s.outlier.TryClaimProbe(now);
    case OutlierState::kEjected:
    case OutlierState::kProbing: return InPanic(pool_.at(backend).tier());
  }
  return false;
}

BackendView BackendMonitor::View(int backend, TimePoint now) const {
  const State& s = *states_.at(backend);
  const Backend& b = pool_.at(backend);
  BackendView v;
  v.index = backend;
  v.in_flight = b.in_flight.load(std::memory_order_relaxed);
  v.capacity = b.options().max_concurrency;
  std::lock_guard lock(s.mu);
  const CombinedHealth h = CombineHealth(s.outlier.state(now), s.health.status());
  v.health = h.state;
  v.routable = h.routable;
  v.rtt = s.rtt.Estimate(now);
  v.ttft = s.ttft.Estimate(now);
  v.tpot = s.tpot.Estimate(now);
  v.fleet_prior = s.ttft.PriorOverridden(now) || s.tpot.PriorOverridden(now);
  v.error_rate = s.mix.FailedShare(now);
  v.rate_limited_rate = s.mix.LimitedShare(now);
  v.ejections = s.outlier.ejections();
  v.peer_ejections = s.outlier.peer_ejections();
  v.ejected_for_s = ToSeconds(s.outlier.ejected_for(now));
  if (engines_ && static_cast<size_t>(backend) < engines_->size()) v.engine = engines_->Latest(backend);
  return v;
}

void BackendMonitor::Publish(TimePoint now) {
  // Built under publish_mu_ (lock order: publish_mu_, then a backend's mu) so that versions and
  // contents advance together when several threads publish.
  std::lock_guard lock(publish_mu_);
  auto snap = std::make_unique<PoolSnapshot>();
  snap->taken = now;
  snap->backends.reserve(states_.size());
  for (size_t i = 0; i < states_.size(); ++i) snap->backends.push_back(View(static_cast<int>(i), now));
  // Panic, per tier (see SetPanicThreshold).
  std::array<int, kTierCount> total{}, ejected{};
  int all_ejected = 0;
  for (size_t i = 0; i < states_.size(); ++i) {
    const int t = static_cast<int>(pool_.at(i).tier());
    ++total[t];
    const bool out = snap->backends[i].health == HealthState::kEjected;
    ejected[t] += out;
    all_ejected += out;
  }
  const bool everything = !states_.empty() && all_ejected == static_cast<int>(states_.size());
  for (int t = 0; t < kTierCount; ++t) {
    const bool panic = ejected[t] > 0 && (everything || (total[t] >= 2 && ejected[t] > panic_threshold_ * total[t]));
    panic_[t].store(panic, std::memory_order_relaxed);
  }
  for (size_t i = 0; i < states_.size(); ++i) {
    BackendView& v = snap->backends[i];
    if (v.health == HealthState::kEjected && InPanic(pool_.at(i).tier())) {
      v.routable = true;
      v.panic = true;
    }
  }
  snap->version = ++version_;
  if (!retained_.empty()) retained_.back().replaced = now;
  current_.store(snap.get(), std::memory_order_release);
  retained_.push_back({std::move(snap), TimePoint{}});
  while (retained_.size() > kRetainedSnapshots + 1 &&
         (retained_.front().replaced + kMinRetention <= now || retained_.size() > kMaxRetained)) {
    retained_.pop_front();
  }
}

Duration BackendMonitor::NextHealthCheckDelay(int backend, Rng& rng) const {
  const auto& h = pool_.at(backend).options().health_check;
  return JitteredInterval(std::chrono::milliseconds(h.interval_ms), h.jitter, rng);
}

}  // namespace mec

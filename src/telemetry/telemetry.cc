#include "telemetry/telemetry.h"

#include "context/request_context.h"
#include "route/predict.h"
#include "route/router.h"

namespace mec {

namespace {

std::vector<MetricsBackend> BackendLabels(const BackendPool& pool) {
  std::vector<MetricsBackend> out;
  for (const auto& b : pool.all()) out.push_back({b->name(), std::string(TierName(b->tier()))});
  return out;
}

prometheus::MetricFamily Family(std::string name, std::string help, prometheus::MetricType type, double value) {
  prometheus::MetricFamily f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = type;
  prometheus::ClientMetric m;
  if (type == prometheus::MetricType::Counter) m.counter.value = value;
  else m.gauge.value = value;
  f.metric.push_back(std::move(m));
  return f;
}

}  // namespace

Telemetry::Telemetry(const TelemetryOptions& options, const BackendPool& pool, std::vector<std::string> policies,
                     const Clock& clock)
    : options_(options),
      pool_(pool),
      clock_(clock),
      unix0_(static_cast<double>(clock.UnixSeconds())),
      mono0_(clock.Now()),
      metrics_(BackendLabels(pool), std::move(policies)) {
  for (const auto& b : pool.all()) {
    if (cloud_reference_ < 0 && b->tier() == Tier::kCloud) cloud_reference_ = static_cast<int>(names_.size());
    names_.push_back(b->name());
    tiers_.push_back(std::string(TierName(b->tier())));
  }
}

Result<std::unique_ptr<Telemetry>> Telemetry::Create(const TelemetryOptions& options, const BackendPool& pool,
                                                     std::vector<std::string> policies, const Clock& clock) {
  std::unique_ptr<Telemetry> t(new Telemetry(options, pool, std::move(policies), clock));
  if (!options.decision_log.path.empty()) {
    auto log = DecisionLog::Open(options.decision_log, t->names_, t->tiers_);
    if (!log.ok()) return log.status();
    t->decision_log_ = std::move(*log);
  }
  if (!options.access_log.path.empty()) {
    auto log = AccessLog::Open(options.access_log);
    if (!log.ok()) return log.status();
    t->access_log_ = std::move(*log);
  }
  return t;
}

Telemetry::~Telemetry() { Close(); }

std::string_view Telemetry::Name(int b) const {
  return b >= 0 && static_cast<size_t>(b) < names_.size() ? std::string_view(names_[b]) : std::string_view();
}

std::string_view Telemetry::TierOf(int b) const {
  return b >= 0 && static_cast<size_t>(b) < tiers_.size() ? std::string_view(tiers_[b]) : std::string_view();
}

RequestRecord Telemetry::Begin(std::string decision_id) const { return Begin(std::move(decision_id), clock_.Now()); }

RequestRecord Telemetry::Begin(std::string decision_id, TimePoint arrived) const {
  RequestRecord r;
  r.id = std::move(decision_id);
  r.start = arrived;
  r.unix_s = UnixSeconds(r.start);
  return r;
}

void Telemetry::OnDecision(RequestRecord& r, const RequestContext& ctx, const Decision& d, Duration decide_time) {
  CaptureContext(ctx, r);
  CaptureDecision(d, ToSeconds(decide_time), r);
  if (options_.metrics) metrics_.ObserveDecision(metrics_.PolicyIndex(d.policy), r.decision_s);
}

void Telemetry::OnNoDecision(RequestRecord& r, const RequestContext& ctx, std::string_view policy, std::string_view why,
                             Duration decide_time) {
  CaptureContext(ctx, r);
  r.decided = true;
  r.policy = std::string(policy);
  r.reason = std::string(why);
  r.decision_s = ToSeconds(decide_time);
  if (options_.metrics) metrics_.ObserveDecision(metrics_.PolicyIndex(policy), r.decision_s);
}

void Telemetry::OnAttempt(RequestRecord& r, int backend, AttemptResult result, bool hedge, bool failover) {
  const bool answered = result == AttemptResult::kOk || result == AttemptResult::kMidstreamCut ||
                        result == AttemptResult::kClientError;
  if (result != AttemptResult::kSkipped) {
    ++r.attempts;
    if (hedge) ++r.hedges;
  }
  if (answered || !r.answered) r.backend = backend;
  r.answered |= answered;
  if (options_.metrics) {
    const bool sent = result != AttemptResult::kSkipped;
    metrics_.CountAttempt(backend, result, sent && failover && !hedge, sent && hedge);
  }
}

void Telemetry::OnFirstByte(RequestRecord& r) const {
  if (!r.ttft_s) r.ttft_s = ToSeconds(clock_.Now() - r.start);
}

void Telemetry::OnOutcome(RequestRecord&& r, RequestStatus status, int http_status) {
  r.status = status;
  r.http_status = http_status;
  r.latency_s = ToSeconds(clock_.Now() - r.start);
  if (r.input_tokens <= 0) r.input_tokens = r.input_tokens_est;
  const bool served = r.backend >= 0 && static_cast<size_t>(r.backend) < pool_.size() &&
                      (status == RequestStatus::kOk || status == RequestStatus::kMidstreamCut);
  if (served && r.cost_usd <= 0) {
    r.cost_usd = ExpectedCost(pool_.at(r.backend).options().price, static_cast<double>(r.input_tokens),
                              static_cast<double>(r.output_tokens), r.latency_s);
  }
  if (served) {
    if (pool_.at(r.backend).tier() == Tier::kCloud) {
      r.cloud_only_usd = r.cost_usd;
    } else if (cloud_reference_ >= 0) {
      r.cloud_only_usd = ExpectedCost(pool_.at(cloud_reference_).options().price, static_cast<double>(r.input_tokens),
                                      static_cast<double>(r.output_tokens), r.latency_s);
    }
  }
  if (r.upstream_s && status == RequestStatus::kOk) r.overhead_s = std::max(0.0, r.latency_s - *r.upstream_s);
  if (options_.metrics) {
    const int policy = metrics_.PolicyIndex(r.policy);
    const int backend = r.backend;  // the one that answered, else the last tried, else none
    metrics_.CountRequest(backend, policy, status);
    if (r.ttft_s) metrics_.ObserveTtft(backend, *r.ttft_s);
    if (status == RequestStatus::kOk) metrics_.ObserveDuration(backend, r.latency_s);
    if (r.overhead_s) metrics_.ObserveOverhead(*r.overhead_s);
    if (r.continuations > 0) metrics_.CountContinued(status);
    if (served) {
      metrics_.AddTokens(r.backend, r.input_tokens, r.output_tokens);
      metrics_.AddCost(r.backend, r.cost_usd);
      if (!r.chain.empty() && r.chain.front() != r.backend) metrics_.CountFallback(r.backend);
    }
  }
  if (observer_) observer_->OnOutcome(r);
  if (access_log_) access_log_->Write(r, Name(r.backend), TierOf(r.backend));
  if (decision_log_ && r.decided) decision_log_->Append(std::move(r));
}

void Telemetry::OnFeedback(std::string_view decision_id, double score) {
  if (options_.metrics) metrics_.CountFeedback();
  if (decision_log_) decision_log_->Feedback(std::string(decision_id), score, UnixSeconds(clock_.Now()));
}

void Telemetry::OnCacheLookup(CacheLookup result) {
  if (options_.metrics) metrics_.CountCache(result);
}

std::string Telemetry::MetricsText(const PoolSnapshot* snapshot) {
  if (!options_.metrics) return {};
  if (snapshot) metrics_.RefreshBackends(*snapshot);
  std::vector<prometheus::MetricFamily> extra;
  if (decision_log_) {
    const DecisionLogStats s = decision_log_->stats();
    using prometheus::MetricType;
    extra.push_back(Family("mecrouter_decision_log_rows_written_total", "Decision log rows committed to SQLite.",
                           MetricType::Counter, static_cast<double>(s.written)));
    extra.push_back(Family("mecrouter_decision_log_rows_dropped_total",
                           "Decision log records dropped because the writer's queue was full.", MetricType::Counter,
                           static_cast<double>(s.dropped)));
    extra.push_back(Family("mecrouter_decision_log_rows_failed_total", "Decision log records lost to failed writes.",
                           MetricType::Counter, static_cast<double>(s.failed)));
    extra.push_back(Family("mecrouter_decision_log_queue_length", "Decision log records waiting for the writer.",
                           MetricType::Gauge, static_cast<double>(s.queued)));
  }
  return metrics_.Text(extra);
}

void Telemetry::Flush() {
  if (decision_log_) decision_log_->Flush();
}

void Telemetry::Close() {
  if (decision_log_) decision_log_->Close();
}

}  // namespace mec

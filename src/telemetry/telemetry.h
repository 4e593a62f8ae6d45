#pragma once
// The Monitor's facade (DESIGN.md §3): what the gateway calls at each point of a request, and
// what it serves at GET /metrics. It feeds the Prometheus metrics (metrics.h), the access log
// (access_log.h) and the decision log (decision_log.h), each as configured (TelemetryOptions).
//
// A request's life, for the caller:
//   RequestRecord r = telemetry.Begin(decision_id);           // at arrival
//   telemetry.OnDecision(r, ctx, decision, decide_time);      // after routing
//   telemetry.OnAttempt(r, backend, AttemptResult::k..., hedge, failover);  // as each attempt ends
//   telemetry.OnFirstByte(r);                                  // first byte sent to the client
//   r.input_tokens = ..; r.output_tokens = ..;                 // from the upstream's usage, if any
//   telemetry.OnOutcome(std::move(r), RequestStatus::k..., http_status);  // once, at the end
// and telemetry.OnFeedback(id, score) for POST /v1/feedback, MetricsText(&snapshot) for /metrics,
// Close() on shutdown (flushes the decision log: nothing recorded before it is lost).
//
// Time comes from the injected Clock. Thread-safety: every method may be called from any thread;
// a RequestRecord belongs to one request.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "backend/backend_pool.h"
#include "backend/pool_snapshot.h"
#include "config/options.h"
#include "core/clock.h"
#include "core/status.h"
#include "telemetry/access_log.h"
#include "telemetry/decision_log.h"
#include "telemetry/metrics.h"
#include "telemetry/outcome_observer.h"
#include "telemetry/request_record.h"

namespace mec {

struct RequestContext;
struct Decision;

class Telemetry {
 public:
  // Opens the decision log and the access log when configured; errors name the file.
  // `policies`: every policy name a request may use (metrics label values).
  static Result<std::unique_ptr<Telemetry>> Create(const TelemetryOptions& options, const BackendPool& pool,
                                                   std::vector<std::string> policies, const Clock& clock);
  ~Telemetry();

  RequestRecord Begin(std::string decision_id) const;
  RequestRecord Begin(std::string decision_id, TimePoint arrived) const;  // the caller has read the clock
  void OnDecision(RequestRecord& r, const RequestContext& ctx, const Decision& d, Duration decide_time);
  // Routing found no backend (`why`, e.g. the router's message): logged as a decision with an
  // empty chain.
  void OnNoDecision(RequestRecord& r, const RequestContext& ctx, std::string_view policy, std::string_view why,
                    Duration decide_time);
  // An upstream attempt on `backend` ended (or was skipped). `hedge`: started by the hedge timer;
  // `failover`: started after an earlier attempt of this request failed (a retry). Sets r.backend
  // to the backend that answered (kOk / kMidstreamCut / kClientError), else to the last one tried.
  void OnAttempt(RequestRecord& r, int backend, AttemptResult result, bool hedge, bool failover);
  // The first byte went to the client (only the first call counts).
  void OnFirstByte(RequestRecord& r) const;
  // The request ended. Fills latency (from Begin), input tokens (the estimate when the upstream
  // did not say) and cost (the serving backend's price for the tokens used); then records it.
  // Requests that were not decided (rejected, routing failed) reach metrics and the access log,
  // not the decision log.
  void OnOutcome(RequestRecord&& r, RequestStatus status, int http_status);
  void OnFeedback(std::string_view decision_id, double score);
  void OnCacheLookup(CacheLookup result);
  // Also shows every finished record to `observer` (the dashboard's live statistics), after
  // latency and cost are filled in. REQUIRES: set before traffic; the observer outlives this.
  void set_outcome_observer(OutcomeObserver* observer) { observer_ = observer; }

  // Prometheus text for GET /metrics: refreshes the backend gauges from `snapshot` (if given)
  // and adds the decision log's counters. Empty when metrics are off.
  std::string MetricsText(const PoolSnapshot* snapshot);

  // Flushes the decision log (blocks until written).
  void Flush();
  // Flushes and closes the decision log and the access log. Idempotent.
  void Close();

  bool metrics_enabled() const { return options_.metrics; }
  Metrics& metrics() { return metrics_; }
  DecisionLog* decision_log() { return decision_log_.get(); }
  AccessLog* access_log() { return access_log_.get(); }  // null when off
  // Seconds since the Unix epoch at `t` on the clock's time line.
  double UnixSeconds(TimePoint t) const { return unix0_ + ToSeconds(t - mono0_); }

 private:
  Telemetry(const TelemetryOptions& options, const BackendPool& pool, std::vector<std::string> policies, const Clock& clock);
  std::string_view Name(int b) const;
  std::string_view TierOf(int b) const;

  const TelemetryOptions options_;
  const BackendPool& pool_;
  const Clock& clock_;
  const double unix0_;
  const TimePoint mono0_;
  std::vector<std::string> names_, tiers_;
  int cloud_reference_ = -1;  // the first cloud backend: it prices the cloud-only counterfactual
  Metrics metrics_;
  std::unique_ptr<DecisionLog> decision_log_;
  std::unique_ptr<AccessLog> access_log_;
  OutcomeObserver* observer_ = nullptr;
};

}  // namespace mec

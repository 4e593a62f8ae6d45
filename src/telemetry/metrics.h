#pragma once
// Prometheus metrics of the gateway (prometheus-cpp; text exposition for GET /metrics).
//
//   mecrouter_requests_total{tier,backend,policy,status}    every request, once, when it ends
//   mecrouter_ttft_seconds{tier,backend}                    arrival -> first byte to the client
//   mecrouter_request_duration_seconds{tier,backend}        arrival -> end (answered requests)
//   mecrouter_tokens_total{tier,backend,direction}          input / output tokens
//   mecrouter_cost_usd_total{tier,backend}                  cost of the tokens used
//   mecrouter_attempts_total{tier,backend,result}           upstream attempts by how they ended
//   mecrouter_retries_total                                 attempts after the first that were not hedges
//   mecrouter_fallbacks_total{tier,backend}                 requests answered by other than the primary
//   mecrouter_hedges_total                                  attempts started by the hedge timer
//   mecrouter_decision_seconds{policy}                      time spent deciding
//   mecrouter_gateway_overhead_seconds                      the gateway's own time per proxied answer:
//                                                           arrival -> end minus first upstream send ->
//                                                           the upstream's last byte
//   mecrouter_cache_lookups_total{result}                   response cache hit / miss / bypass
//   mecrouter_feedback_total                                POST /v1/feedback accepted
//   mecrouter_continued_streams_total{result}               streams cut mid-answer and continued on another
//                                                           backend, by how they ended (ok, cut, cancelled)
//   mecrouter_backend_*{tier,backend}                       health, routable, ejection, load, estimates
//                                                           (refreshed from a PoolSnapshot)
//
// Requests that never reached a backend carry tier="none", backend="none".
//
// Hot path: every child a request touches is resolved once — per backend at construction, per
// (backend, policy, status) at its first use — and then reached by index: no label maps, no
// locks except prometheus-cpp's own per-histogram mutex.
//
// Thread-safety: every method may be called from any thread.

#include <array>
#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>

#include "backend/pool_snapshot.h"
#include "telemetry/request_record.h"

namespace mec {

struct MetricsBackend {
  std::string name;
  std::string tier;
};

enum class CacheLookup { kHit, kMiss, kBypass };

class Metrics {
 public:
  // `backends` indexed like the BackendPool; `policies` every policy a request may name.
  Metrics(std::vector<MetricsBackend> backends, std::vector<std::string> policies);
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // Index of a policy name for the calls below (a short linear scan); unknown names share one
  // "other" slot.
  int PolicyIndex(std::string_view policy) const;

  // One finished request. `backend` -1: none.
  void CountRequest(int backend, int policy, RequestStatus status);
  void ObserveTtft(int backend, double seconds);
  void ObserveDuration(int backend, double seconds);
  void AddTokens(int backend, int64_t input, int64_t output);
  void AddCost(int backend, double usd);
  void CountFallback(int backend);
  // One upstream attempt (a retry when it is not the first and not a hedge).
  void CountAttempt(int backend, AttemptResult result, bool retry, bool hedge);
  void ObserveDecision(int policy, double seconds);
  void ObserveOverhead(double seconds);
  void CountCache(CacheLookup result);
  void CountFeedback();
  // A request whose stream was continued after a cut (docs/continuation.md), as it ended.
  void CountContinued(RequestStatus status);

  // Sets the backend gauges from a snapshot (and adds new ejections to the ejection counter).
  void RefreshBackends(const PoolSnapshot& snapshot);

  // Prometheus text exposition of everything, plus `extra` families (e.g. the decision log's).
  std::string Text(const std::vector<prometheus::MetricFamily>& extra = {}) const;

  prometheus::Registry& registry() { return *registry_; }

 private:
  struct PerBackend;
  int Slot(int backend) const;  // backend index, or the "none" slot
  prometheus::Counter& RequestCounter(int slot, int policy, RequestStatus status);

  std::shared_ptr<prometheus::Registry> registry_;
  std::vector<MetricsBackend> backends_;   // + "none" at the end
  std::vector<std::string> policies_;      // + "other" at the end

  prometheus::Family<prometheus::Counter>* requests_ = nullptr;
  prometheus::Family<prometheus::Counter>* attempts_ = nullptr;
  prometheus::Counter* retries_ = nullptr;
  prometheus::Counter* hedges_ = nullptr;
  prometheus::Counter* feedback_ = nullptr;
  std::array<prometheus::Counter*, 3> continued_{};  // ok, cut, cancelled
  prometheus::Histogram* overhead_ = nullptr;
  std::array<prometheus::Counter*, 3> cache_{};
  std::vector<prometheus::Histogram*> decision_;  // per policy slot
  std::vector<std::unique_ptr<PerBackend>> per_backend_;  // per backend slot
  // Lazily resolved mecrouter_requests_total children: [slot][policy][status].
  std::unique_ptr<std::atomic<prometheus::Counter*>[]> request_children_;

  std::mutex refresh_mu_;
  std::vector<int64_t> seen_ejections_;  // guarded by refresh_mu_
};

}  // namespace mec

#include "telemetry/metrics.h"

#include <sstream>

#include <prometheus/text_serializer.h>

namespace mec {

namespace {

using prometheus::Counter;
using prometheus::Gauge;
using prometheus::Histogram;

// Bucket bounds in seconds. TTFT: a device's ~0.3 s to a slow cloud's seconds; durations up to
// long generations; decisions in microseconds.
const Histogram::BucketBoundaries kTtftBuckets = {0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30};
const Histogram::BucketBoundaries kDurationBuckets = {0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 8, 13, 20, 30, 60, 120, 300};
const Histogram::BucketBoundaries kDecisionBuckets = {1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 1e-2};
const Histogram::BucketBoundaries kOverheadBuckets = {2.5e-5, 5e-5, 1e-4, 2e-4, 3e-4, 5e-4, 7.5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2, 0.1};

const char* kHealthStates[] = {"healthy", "unhealthy", "ejected", "half_open"};

}  // namespace

struct Metrics::PerBackend {
  Histogram* ttft = nullptr;
  Histogram* duration = nullptr;
  Counter* input_tokens = nullptr;
  Counter* output_tokens = nullptr;
  Counter* cost = nullptr;
  Counter* fallbacks = nullptr;
  std::array<std::atomic<Counter*>, kAttemptResultCount> attempts{};
  // Gauges (real backends only).
  Gauge* routable = nullptr;
  std::array<Gauge*, 4> health{};
  Gauge* ejected_for = nullptr;
  Counter* ejections = nullptr;
  Gauge* in_flight = nullptr;
  Gauge* capacity = nullptr;
  Gauge* error_ratio = nullptr;
  Gauge* ttft_estimate = nullptr;
  Gauge* tpot_estimate = nullptr;
};

Metrics::Metrics(std::vector<MetricsBackend> backends, std::vector<std::string> policies)
    : registry_(std::make_shared<prometheus::Registry>()), backends_(std::move(backends)), policies_(std::move(policies)) {
  const size_t real_backends = backends_.size();
  backends_.push_back({"none", "none"});
  policies_.push_back("other");
  auto& reg = *registry_;

  requests_ = &prometheus::BuildCounter().Name("mecrouter_requests_total")
                   .Help("Requests by the tier and backend that served them (none: no backend), policy and how they ended.")
                   .Register(reg);
  attempts_ = &prometheus::BuildCounter().Name("mecrouter_attempts_total")
                   .Help("Upstream attempts by backend and how they ended.").Register(reg);
  retries_ = &prometheus::BuildCounter().Name("mecrouter_retries_total")
                  .Help("Upstream attempts after a request's first that were not hedges (failovers).").Register(reg).Add({});
  hedges_ = &prometheus::BuildCounter().Name("mecrouter_hedges_total")
                 .Help("Upstream attempts started by the hedge timer beside a slow one.").Register(reg).Add({});
  feedback_ = &prometheus::BuildCounter().Name("mecrouter_feedback_total")
                   .Help("Quality feedback accepted (POST /v1/feedback).").Register(reg).Add({});
  auto& continued = prometheus::BuildCounter().Name("mecrouter_continued_streams_total")
                        .Help("Streams cut mid-answer and continued on another backend, by how they ended (ok, cut, cancelled).")
                        .Register(reg);
  continued_ = {&continued.Add({{"result", "ok"}}), &continued.Add({{"result", "cut"}}), &continued.Add({{"result", "cancelled"}})};
  auto& cache = prometheus::BuildCounter().Name("mecrouter_cache_lookups_total")
                    .Help("Response cache lookups by result (hit, miss, bypass).").Register(reg);
  cache_ = {&cache.Add({{"result", "hit"}}), &cache.Add({{"result", "miss"}}), &cache.Add({{"result", "bypass"}})};
  auto& decision = prometheus::BuildHistogram().Name("mecrouter_decision_seconds")
                       .Help("Time the routing policy took to decide.").Register(reg);
  for (const auto& p : policies_) decision_.push_back(&decision.Add({{"policy", p}}, kDecisionBuckets));
  overhead_ = &prometheus::BuildHistogram().Name("mecrouter_gateway_overhead_seconds")
                   .Help("The gateway's own time per proxied answer: arrival to the end of the answer, minus the time "
                         "from the first upstream send to the answering upstream's last byte.")
                   .Register(reg).Add({}, kOverheadBuckets);

  auto& ttft = prometheus::BuildHistogram().Name("mecrouter_ttft_seconds")
                   .Help("Request arrival to the first byte sent to the client.").Register(reg);
  auto& duration = prometheus::BuildHistogram().Name("mecrouter_request_duration_seconds")
                       .Help("Request arrival to the end of the answer, for answered requests.").Register(reg);
  auto& tokens = prometheus::BuildCounter().Name("mecrouter_tokens_total")
                     .Help("Tokens by backend and direction (input, output).").Register(reg);
  auto& cost = prometheus::BuildCounter().Name("mecrouter_cost_usd_total")
                   .Help("Cost in US dollars of the tokens used, at each backend's configured price.").Register(reg);
  auto& fallbacks = prometheus::BuildCounter().Name("mecrouter_fallbacks_total")
                        .Help("Requests answered by a backend other than the decision's primary.").Register(reg);
  auto& routable = prometheus::BuildGauge().Name("mecrouter_backend_routable")
                       .Help("1 if routing may pick the backend now (healthy, or half-open with its probe slot free).").Register(reg);
  auto& health = prometheus::BuildGauge().Name("mecrouter_backend_health_state")
                     .Help("1 for the backend's current health state, 0 for the others.").Register(reg);
  auto& ejected_for = prometheus::BuildGauge().Name("mecrouter_backend_ejection_remaining_seconds")
                          .Help("Seconds of outlier ejection left (0 when not ejected).").Register(reg);
  auto& ejections = prometheus::BuildCounter().Name("mecrouter_backend_ejections_total")
                        .Help("Times outlier detection ejected the backend.").Register(reg);
  auto& in_flight = prometheus::BuildGauge().Name("mecrouter_backend_in_flight")
                        .Help("Requests in flight to the backend.").Register(reg);
  auto& capacity = prometheus::BuildGauge().Name("mecrouter_backend_capacity")
                       .Help("The backend's configured max_concurrency.").Register(reg);
  auto& error_ratio = prometheus::BuildGauge().Name("mecrouter_backend_error_ratio")
                          .Help("Recent share of failed attempts (time-decayed).").Register(reg);
  auto& ttft_est = prometheus::BuildGauge().Name("mecrouter_backend_ttft_estimate_seconds")
                       .Help("The router's current median TTFT estimate for the backend.").Register(reg);
  auto& tpot_est = prometheus::BuildGauge().Name("mecrouter_backend_tpot_estimate_seconds")
                       .Help("The router's current median time per output token for the backend.").Register(reg);

  for (size_t i = 0; i < backends_.size(); ++i) {
    const auto& b = backends_[i];
    const prometheus::Labels l = {{"tier", b.tier}, {"backend", b.name}};
    auto pb = std::make_unique<PerBackend>();
    pb->ttft = &ttft.Add(l, kTtftBuckets);
    pb->duration = &duration.Add(l, kDurationBuckets);
    if (i < real_backends) {
      auto with = [&l](const char* k, const char* v) {
        prometheus::Labels x = l;
        x[k] = v;
        return x;
      };
      pb->input_tokens = &tokens.Add(with("direction", "input"));
      pb->output_tokens = &tokens.Add(with("direction", "output"));
      pb->cost = &cost.Add(l);
      pb->fallbacks = &fallbacks.Add(l);
      pb->routable = &routable.Add(l);
      for (int s = 0; s < 4; ++s) pb->health[s] = &health.Add(with("state", kHealthStates[s]));
      pb->ejected_for = &ejected_for.Add(l);
      pb->ejections = &ejections.Add(l);
      pb->in_flight = &in_flight.Add(l);
      pb->capacity = &capacity.Add(l);
      pb->error_ratio = &error_ratio.Add(l);
      pb->ttft_estimate = &ttft_est.Add(l);
      pb->tpot_estimate = &tpot_est.Add(l);
    }
    per_backend_.push_back(std::move(pb));
  }
  const size_t n = backends_.size() * policies_.size() * kRequestStatusCount;
  request_children_ = std::make_unique<std::atomic<Counter*>[]>(n);
  for (size_t i = 0; i < n; ++i) request_children_[i].store(nullptr, std::memory_order_relaxed);
  seen_ejections_.assign(real_backends, 0);
}

Metrics::~Metrics() = default;

int Metrics::PolicyIndex(std::string_view policy) const {
  const int other = static_cast<int>(policies_.size()) - 1;
  for (int i = 0; i < other; ++i)
    if (policies_[i] == policy) return i;
  return other;
}

int Metrics::Slot(int backend) const {
  const int none = static_cast<int>(backends_.size()) - 1;
  return backend >= 0 && backend < none ? backend : none;
}

prometheus::Counter& Metrics::RequestCounter(int slot, int policy, RequestStatus status) {
  if (policy < 0 || policy >= static_cast<int>(policies_.size())) policy = static_cast<int>(policies_.size()) - 1;
  const size_t i = (static_cast<size_t>(slot) * policies_.size() + static_cast<size_t>(policy)) * kRequestStatusCount +
                   static_cast<size_t>(status);
  Counter* c = request_children_[i].load(std::memory_order_acquire);
  if (!c) {
    // First use: Family::Add is thread-safe and returns the same child for the same labels, so
    // two threads racing here store the same pointer.
    const auto& b = backends_[slot];
    c = &requests_->Add({{"tier", b.tier}, {"backend", b.name}, {"policy", policies_[policy]},
                         {"status", std::string(RequestStatusName(status))}});
    request_children_[i].store(c, std::memory_order_release);
  }
  return *c;
}

void Metrics::CountRequest(int backend, int policy, RequestStatus status) { RequestCounter(Slot(backend), policy, status).Increment(); }

void Metrics::ObserveTtft(int backend, double seconds) { per_backend_[Slot(backend)]->ttft->Observe(seconds); }

void Metrics::ObserveDuration(int backend, double seconds) { per_backend_[Slot(backend)]->duration->Observe(seconds); }

void Metrics::AddTokens(int backend, int64_t input, int64_t output) {
  auto& pb = *per_backend_[Slot(backend)];
  if (!pb.input_tokens) return;
  if (input > 0) pb.input_tokens->Increment(static_cast<double>(input));
  if (output > 0) pb.output_tokens->Increment(static_cast<double>(output));
}

void Metrics::AddCost(int backend, double usd) {
  auto& pb = *per_backend_[Slot(backend)];
  if (pb.cost && usd > 0) pb.cost->Increment(usd);
}

void Metrics::CountContinued(RequestStatus status) {
  const int i = status == RequestStatus::kOk ? 0 : status == RequestStatus::kMidstreamCut ? 1 : 2;
  continued_[i]->Increment();
}

void Metrics::CountFallback(int backend) {
  auto& pb = *per_backend_[Slot(backend)];
  if (pb.fallbacks) pb.fallbacks->Increment();
}

void Metrics::CountAttempt(int backend, AttemptResult result, bool retry, bool hedge) {
  const int slot = Slot(backend);
  auto& child = per_backend_[slot]->attempts[static_cast<int>(result)];
  Counter* c = child.load(std::memory_order_acquire);
  if (!c) {
    const auto& b = backends_[slot];
    c = &attempts_->Add({{"tier", b.tier}, {"backend", b.name}, {"result", std::string(AttemptResultName(result))}});
    child.store(c, std::memory_order_release);
  }
  c->Increment();
  if (retry) retries_->Increment();
  if (hedge) hedges_->Increment();
}

void Metrics::ObserveDecision(int policy, double seconds) {
  if (policy < 0 || policy >= static_cast<int>(decision_.size())) policy = static_cast<int>(decision_.size()) - 1;
  decision_[policy]->Observe(seconds);
}

void Metrics::ObserveOverhead(double seconds) { overhead_->Observe(seconds); }

void Metrics::CountCache(CacheLookup result) { cache_[static_cast<int>(result)]->Increment(); }

void Metrics::CountFeedback() { feedback_->Increment(); }

void Metrics::RefreshBackends(const PoolSnapshot& snapshot) {
  std::lock_guard<std::mutex> lock(refresh_mu_);
  const size_t n = std::min(snapshot.backends.size(), seen_ejections_.size());
  for (size_t i = 0; i < n; ++i) {
    const BackendView& v = snapshot.backends[i];
    auto& pb = *per_backend_[i];
    pb.routable->Set(v.routable ? 1 : 0);
    for (int s = 0; s < 4; ++s) pb.health[s]->Set(static_cast<int>(v.health) == s ? 1 : 0);
    pb.ejected_for->Set(v.ejected_for_s);
    if (v.ejections > seen_ejections_[i]) {
      pb.ejections->Increment(static_cast<double>(v.ejections - seen_ejections_[i]));
      seen_ejections_[i] = v.ejections;
    }
    pb.in_flight->Set(v.in_flight);
    pb.capacity->Set(v.capacity);
    pb.error_ratio->Set(v.error_rate);
    pb.ttft_estimate->Set(v.ttft.Median());
    pb.tpot_estimate->Set(v.tpot.Median());
  }
}

std::string Metrics::Text(const std::vector<prometheus::MetricFamily>& extra) const {
  std::vector<prometheus::MetricFamily> families = registry_->Collect();
  families.insert(families.end(), extra.begin(), extra.end());
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, families);
  return out.str();
}

}  // namespace mec

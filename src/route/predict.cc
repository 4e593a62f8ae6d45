#include "route/predict.h"

#include <algorithm>
#include <cmath>

namespace mec {

std::optional<double> ClientRttMs(const NetworkView& n, Tier t) {
  if (t == Tier::kEdge) return n.rtt_edge_ms;
  if (t == Tier::kCloud) return n.rtt_cloud_ms;
  return std::nullopt;
}

double ExpectedCost(const PriceOptions& p, double in, double out, double busy_s) {
  double usd = (in * p.input_per_1m + out * p.output_per_1m) / 1e6;
  if (p.gpu_per_hour > 0 && p.gpu_tokens_per_second > 0) {
    // A self-hosted GPU's hour buys gpu_tokens_per_second x 3600 output tokens; prefill is
    // counted at a tenth of a decoded token (ASSUMPTION: prefill is ~10x cheaper per token).
    usd += p.gpu_per_hour / 3600.0 / p.gpu_tokens_per_second * (out + in / 10.0);
  }
  if (p.watts > 0) usd += p.watts * busy_s / 3.6e6 * p.usd_per_kwh;  // W x s = J; 3.6e6 J per kWh
  return usd;
}

RequestTerms TermsOf(const RequestContext& ctx) {
  RequestTerms t;
  if (ctx.deadline_ms) t.log_deadline_s = std::log(*ctx.deadline_ms / 1000.0);
  if (ctx.ttft_deadline_ms) t.log_ttft_deadline_s = std::log(*ctx.ttft_deadline_ms / 1000.0);
  return t;
}

void PredictLatencyAndCost(const RequestContext& ctx, const BackendOptions& o, const BackendView& v, Candidate& c) {
  PredictLatencyAndCost(ctx, TermsOf(ctx), o, v, c);
}

namespace {

// The engine's part of the prediction (see predict.h): services ahead and load share.
struct EngineQueue {
  double ahead = 0;   // services ahead of a new request, in units of one request's service
  double waiting = 0; // requests waiting (the engine's count, else 0)
  double load = 0;
};
EngineQueue QueueOf(const EngineLoad& e, int capacity) {
  EngineQueue q;
  const double slots = e.total_slots && *e.total_slots > 0 ? *e.total_slots : std::max(1, capacity);
  const bool all_busy = e.total_slots && e.busy_slots && *e.busy_slots >= *e.total_slots;
  if (e.waiting) {
    q.waiting = std::max(0.0, *e.waiting);
    if (q.waiting > 0) q.ahead = (q.waiting + 1) / slots;
    else if (all_busy) q.ahead = 1 / slots;
  } else if (all_busy) {
    q.ahead = 1 / slots;
  }
  const double running = e.running ? *e.running : e.busy_slots ? *e.busy_slots : 0;
  q.load = (std::max(0.0, running) + q.waiting) / slots;
  return q;
}

}  // namespace

void PredictLatencyAndCost(const RequestContext& ctx, const RequestTerms& terms, const BackendOptions& o, const BackendView& v,
                           Candidate& c, const EngineLoad* engine) {
  double ttft = v.ttft.Median();
  // A hot device throttles (ASSUMPTION: serious x1.5 slower; critical is filtered out).
  const double throttle = o.tier == Tier::kDevice && ctx.device && ctx.device->thermal == Thermal::kSerious ? 1.5 : 1.0;
  ttft *= throttle;
  // The client's own link replaces the backend's measured network part for remote tiers.
  if (auto rtt_ms = ClientRttMs(ctx.network, o.tier)) ttft = std::max(0.0, ttft - v.rtt.Median()) + *rtt_ms / 1000.0;
  // Prompt length beyond the ~200 tokens the estimator mostly sees: prefill grows the TTFT.
  // (The estimator learns a backend's typical TTFT; this keeps long prompts from looking free.)
  // The part its KV cache probably holds (prefix affinity) is not prefilled again.
  const double tpot = std::max(1e-5, v.tpot.Median()) * throttle;
  const double prefill = std::max(0.0, static_cast<double>(ctx.input_tokens) - c.prefix_tokens - 200.0) * tpot / 20.0;
  ttft += prefill;
  // Queue: beyond capacity, wait for earlier requests' share of service.
  const double service = ttft + ctx.output_tokens * tpot;
  double queue = 0;
  if (v.in_flight >= v.capacity) queue = (v.in_flight - v.capacity + 1) * service / std::max(1, v.capacity);
  c.queue = std::max(0, v.in_flight - v.capacity);
  c.load = v.capacity > 0 ? static_cast<double>(v.in_flight) / v.capacity : 1.0;
  if (engine) {
    const EngineQueue e = QueueOf(*engine, v.capacity);
    queue = std::max(queue, e.ahead * service);
    c.queue = std::max(c.queue, e.waiting);
    c.load = std::max(c.load, e.load);
    if (engine->kv_usage) c.kv_usage = std::clamp(*engine->kv_usage, 0.0, 1.0);
    if (o.engine.kind == EngineKind::kOllama && !o.models.empty()) {
      const bool asked = std::find(o.models.begin(), o.models.end(), ctx.model) != o.models.end();
      c.cold = !HoldsModel(*engine, asked ? ctx.model : o.models.front());
      if (c.cold) queue += o.engine.cold_load_ms / 1000.0;
    }
  }
  ttft += queue;
  c.ttft_s = ttft;
  c.latency_s = ttft + ctx.output_tokens * tpot;

  // Spread: weight each part's sigma by its share of the median.
  const double w_ttft = c.latency_s > 0 ? ttft / c.latency_s : 1.0;
  const double sigma = std::max(0.05, std::sqrt(std::pow(w_ttft * v.ttft.sigma, 2) + std::pow((1 - w_ttft) * v.tpot.sigma, 2)));
  c.latency_sigma = sigma;
  double p = 1.0;
  if (ctx.deadline_ms && c.latency_s > 0)
    p *= NormalCdf((terms.log_deadline_s - std::log(c.latency_s)) / sigma);
  if (ctx.ttft_deadline_ms && ttft > 0)
    p *= NormalCdf((terms.log_ttft_deadline_s - std::log(ttft)) / std::max(0.05, v.ttft.sigma));
  // A backend that recently failed often is less likely to answer at all.
  p *= std::clamp(1.0 - v.error_rate, 0.0, 1.0);
  c.p_meet = p;
  c.cost_usd = ExpectedCost(o.price, static_cast<double>(ctx.input_tokens), ctx.output_tokens, c.latency_s);
  if (o.tier == Tier::kDevice && ctx.device) {
    // A device on battery pays for energy with its charge: the lower the charge, the dearer
    // (ASSUMPTION: cost / charge, so 25% charge costs 4x). Charging, or unknown charge: plain energy.
    if (ctx.device->battery && !ctx.device->charging.value_or(false))
      c.cost_usd /= std::max(0.05, *ctx.device->battery);
  }
}

}  // namespace mec

#pragma once
// The router's predictions for one (request, backend) pair, as free functions over the request
// context, the backend's options and its snapshot view. No I/O, no state.
//
// Latency: TTFT ~ lognormal from the backend's estimator, its network part replaced by the
// client's reported RTT for that tier when the request carries X-MEC-Network; a queue wait when
// the backend is at capacity; then output tokens x time per token. End-to-end latency is taken
// as lognormal with that median and a spread combining the TTFT and per-token spreads.
//
// With a fresh reading of the backend's serving engine (`engine`, docs/engines.md), the queue is
// what the engine says, since it also counts other gateways' and clients' requests: w requests
// waiting put (w + 1) services ahead, shared by its slots (llama.cpp's total_slots, else
// max_concurrency); every slot busy with the queue unknown puts one service ahead. The larger of
// that and the gateway's own in-flight queue counts (the two overlap). Load is likewise the
// larger of in_flight / capacity and (running + waiting) / slots. An Ollama engine that does not
// list the model the request would be sent (the asked one if the backend serves it, else its first)
// among its loaded models is cold: engine_cold_load_ms joins the TTFT (Candidate::cold).

#include "api/hints.h"
#include "backend/backend_view.h"
#include "backend/engine_load.h"
#include "config/options.h"
#include "context/request_context.h"
#include "route/candidate.h"

namespace mec {

// Fills ttft_s, latency_s, latency_sigma, p_meet, cost_usd, load of `c` (quality is separate).
// Reads c.prefix_tokens: the prompt tokens its KV cache probably holds skip the prefill.
void PredictLatencyAndCost(const RequestContext& ctx, const BackendOptions& o, const BackendView& v, Candidate& c);
// What the prediction needs of the request alone, computed once per decision.
struct RequestTerms {
  double log_deadline_s = 0;       // ln(deadline in s), with a deadline
  double log_ttft_deadline_s = 0;  // ln(TTFT deadline in s), with one
};
RequestTerms TermsOf(const RequestContext& ctx);
// The same, with the request's terms given. REQUIRES: terms == TermsOf(ctx).
void PredictLatencyAndCost(const RequestContext& ctx, const RequestTerms& terms, const BackendOptions& o, const BackendView& v,
                           Candidate& c, const EngineLoad* engine = nullptr);
// Expected USD cost of serving in/out tokens on a backend, given its expected busy seconds.
double ExpectedCost(const PriceOptions& p, double input_tokens, double output_tokens, double busy_s);
// The client's RTT to a tier from X-MEC-Network (ms), if it said.
std::optional<double> ClientRttMs(const NetworkView& n, Tier t);

}  // namespace mec

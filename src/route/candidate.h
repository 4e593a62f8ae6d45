#pragma once
// A backend that could serve a request, with the router's predictions for it (DESIGN.md §2).

#include <cmath>
#include <limits>
#include <string>

#include "config/options.h"

namespace mec {

struct Candidate {
  // User-provided, so that value-initialization (std::vector::resize) sets the members below
  // instead of zeroing the whole struct first: that memset (rep stos) was ~13% of a decision.
  Candidate() {}  // NOLINT(modernize-use-equals-default)

  int backend = -1;
  Tier tier = Tier::kCloud;
  bool passed_filters = true;
  std::string filtered_by;        // the first hard filter that removed it ("" if none)
  // Predictions.
  double ttft_s = 0;              // expected time to first token (median), queue included
  double latency_s = 0;           // expected end-to-end latency (median)
  double latency_sigma = 0;       // its spread: the sd of ln(latency); LatencyP95 below
  double p_meet = 1;              // P(meets the deadline and the TTFT deadline); 1 without deadlines
  double quality = 1;             // expected quality on the DESIGN.md §2 scale
  double cost_usd = 0;            // expected cost of this request here
  double load = 0;                // in_flight / capacity, or the engine's (running + waiting) / slots when higher
  // From its serving engine's latest fresh reading (docs/engines.md), when it declares one:
  double queue = 0;               // requests ahead of it: the engine's waiting count, else in_flight beyond capacity
  double kv_usage = std::numeric_limits<double>::quiet_NaN();  // share of its KV cache in use; NaN: not reported
  bool saturated = false;         // its engine is saturated or silent (backend/engine_load.h Saturated)
  bool cold = false;              // its engine (Ollama) does not hold the model: ttft_s includes the load
  // Prompt tokens its KV cache probably holds (cache/prefix_index.h): their prefill is skipped.
  double prefix_tokens = 0;
  double score = 0;               // the policy's score (higher is better)
};

// The 95th percentile of c's latency (lognormal: median x e^(1.645 sigma)). Computed where it is
// shown (the decision log) rather than for every candidate of every decision.
inline double LatencyP95(const Candidate& c) { return c.latency_s * std::exp(1.645 * c.latency_sigma); }

}  // namespace mec

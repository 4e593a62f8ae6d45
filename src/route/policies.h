#pragma once
// The routing policies. Every policy is the same profile shape (llm-d's scheduler): the shared
// hard filters (filters.h), the shared predictions (predict.h), then its own scoring and picking,
// which orders the surviving candidates into the decision's chain. Only that last step differs.
//
//   adaptive       (ours) meet the deadline with P >= deadline_target and the minimum quality, at
//                  the lowest expected cost — the minimum quality held as the running average of
//                  the request's class (learn/quality_budget.h) when RouteEnv has a controller,
//                  else on every request; candidates within cost_tie of the cheapest are
//                  ranked by P(meet) then latency. When nothing meets both, degrade in this
//                  order and say so: (1) keep the deadline, take the best quality; (2) keep the
//                  quality, take the best P(meet); (3) best P(meet) x quality.
//   cloud-only, edge-only, device-only   that tier only, least loaded first
//   static         the original design's use-case table (X-MEC-Use-Case), then nearer tiers
//   round-robin, random                  rotate / shuffle over every candidate
//   least-latency  LiteLLM's latency-based routing: lowest expected latency from recent history
//   least-busy     lowest in_flight / capacity
//   cost-first     lowest expected cost
//   preference     a fixed tier order for "auto" (routing.auto_order)
//
// Shared by all: shedding (every candidate full and waiting cannot meet the deadline -> 429),
// and hedging when enabled (the primary's P(meet) is below hedge_threshold).

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "route/router.h"

namespace mec {

struct PolicyOptions {
  double deadline_target = 0.9;  // adaptive: the P(meet deadline) a candidate needs
  double cost_tie = 0.10;        // adaptive: within this fraction of the cheapest counts as a tie
  // adaptive: hold each request's minimum quality as a floor (true), or as its class's running
  // average through RouteEnv::quality_budget (false; a floor when no controller is given).
  // A request may say which (RequestContext::min_quality_per_request).
  bool min_quality_per_request = false;
  bool hedge = false;
  double hedge_threshold = 0.5;  // hedge when the primary's P(meet) is below this
  std::vector<Tier> auto_order = {Tier::kEdge, Tier::kCloud, Tier::kDevice};  // preference
};

// Every policy name, adaptive first.
const std::vector<std::string>& PolicyNames();
// nullptr for an unknown name.
std::unique_ptr<Router> MakePolicy(std::string_view name, const PolicyOptions& options);

// The candidate list every policy starts from: filters applied, predictions and quality filled.
struct CandidateSet {
  std::vector<Candidate> all;    // one per backend, in pool order
  std::vector<int> passing;      // indices into `all` of those that passed the hard filters
  int model_matches = 0;         // backends that serve the requested model / tier at all
  double strongest_quality = 1;  // quality of the strongest configured tier (normalizer)
};
CandidateSet BuildCandidates(const RequestContext& ctx, const RouteEnv& env);

// The expected quality of backend b's answer before normalizing: its tier's quality, or, with a
// configured quality_ratio r, the reference model's quality q scaled by the nesting assumption of
// context/tier_quality.h: q * (1 - k (1 - r)) (reference: the edge model for a device backend,
// the tier's own for the others).
double BackendQuality(const RequestContext& ctx, const Backend& b);
// The complexity model's edge quality and how sure it is, for X-MEC-Reason:
// "edge quality 0.72 +-0.37 (unsure: unlike the prompts the model was trained on, familiarity 0.02; 0 judged like it)
// [logreg-stack-v1]" (the live model's name, with its version once learning has promoted one).
std::string QualityNote(const RequestContext& ctx);

}  // namespace mec

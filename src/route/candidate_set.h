#pragma once
// The candidate list every profile starts from (DESIGN.md §3 Router): one Candidate per backend
// in pool order, with the shared hard filters (route/filters.h) applied and the predictions
// (route/predict.h) and quality filled, and whether its engine is saturated (Candidate::saturated,
// judged at RouteEnv::now). No I/O, no state.

#include <string>
#include <vector>

#include "route/candidate.h"
#include "route/router.h"

namespace mec {

struct CandidateSet {
  std::vector<Candidate> all;    // one per backend, in pool order
  std::vector<int> passing;      // indices into `all` of those that passed the hard filters
  int model_matches = 0;         // backends that serve the requested model / tier at all
  double strongest_quality = 1;  // quality of the strongest configured tier (normalizer)
};
CandidateSet BuildCandidates(const RequestContext& ctx, const RouteEnv& env);

// The snapshot's view of backend i (a default view when the snapshot is older than the pool).
const BackendView& ViewOf(const RouteEnv& env, size_t i);

// The expected quality of backend b's answer before normalizing: its tier's quality, or, with a
// configured quality_ratio r, the reference model's quality q scaled by the nesting assumption of
// context/tier_quality.h: q * (1 - k (1 - r)) (reference: the edge model for a device backend,
// the tier's own for the others).
double BackendQuality(const RequestContext& ctx, const Backend& b);
// Appends the complexity model's edge quality and how sure it is, for X-MEC-Reason:
// "edge quality 0.72 +-0.37 (unsure: unlike the prompts the model was trained on, familiarity 0.02; 0 judged like it)
// [logreg-stack-v1]" (the live model's name, with its version once learning has promoted one).
void AppendQualityNote(const RequestContext& ctx, std::string& out);

}  // namespace mec

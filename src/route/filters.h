#pragma once
// Filters (route/plugin.h). The hard filters are shared by every policy (DESIGN.md §3): a backend
// that fails one cannot serve the request, whatever the profile; BuildCandidates applies them all,
// in the order below, and records the first reason in Candidate::filtered_by. The free functions
// return "" when the backend passes, else that short reason.
//
// Profile filters only narrow a profile's choice (a profile lists them; nothing is recorded):
//   cloud-tier, edge-tier, device-tier   that tier only
//   auto-order                           for model "auto", only the tiers in routing.auto_order

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "backend/backend.h"
#include "backend/backend_view.h"
#include "context/request_context.h"
#include "route/plugin.h"
#include "route/policy_options.h"

namespace mec {

// Privacy: device -> device tier only; edge -> device or edge.
std::string FilterPrivacy(const RequestContext& ctx, const Backend& b);
// Model: "auto" passes all; a tier name passes that tier; any other name passes backends serving it.
std::string FilterModel(const RequestContext& ctx, const Backend& b);
// Endpoint and capabilities: embeddings, tools, JSON schema, image input.
std::string FilterCapabilities(const RequestContext& ctx, const Backend& b);
// Context window: estimated input + expected output must fit.
std::string FilterContextWindow(const RequestContext& ctx, const Backend& b);
// Health: ejected or unhealthy backends are out (half-open ones take their one probe).
std::string FilterHealth(const BackendView& v);
// Reachability: with the client offline, only the device tier is reachable; a device in critical
// thermal state is not.
std::string FilterReachable(const RequestContext& ctx, const Backend& b);

// All of the above in order; the first failing reason or "".
std::string HardFilters(const RequestContext& ctx, const Backend& b, const BackendView& v);

// The hard filters as plugins, in that order: "privacy", "model", "capabilities",
// "context-window", "reachable", "health" (config/options.h kRoutingHardFilterNames).
std::span<const Filter* const> HardFilterChain();
// HardFilters, and whether the model filter alone passes (the backend serves the model or tier).
std::string HardFilters(const RequestContext& ctx, const Backend& b, const BackendView& v, bool* serves_model);

// What the hard filters need of the request alone, computed once per decision (BuildCandidates).
struct HardFilterTerms {
  uint8_t tiers = 0;              // bit t: privacy, the API key's tiers and reachability keep tier t
  bool any_model = false;         // the model is "auto"
  std::optional<Tier> model_tier; // the model names a tier
  double context_need = 0;        // prompt tokens, plus the output when capped
};
HardFilterTerms HardFilterTermsOf(const RequestContext& ctx);
// The first hard filter (HardFilterChain's order) that removes b, or nullptr; no string is made
// for a backend that passes. *serves_model as above. REQUIRES: terms == HardFilterTermsOf(ctx).
const Filter* FirstHardFilter(const HardFilterTerms& terms, const RequestContext& ctx, const Backend& b, const BackendView& v,
                              bool* serves_model);

// A profile filter by name (kRoutingFilterNames); nullptr for another name.
std::unique_ptr<Filter> MakeFilter(std::string_view name, const PolicyOptions& o);

}  // namespace mec

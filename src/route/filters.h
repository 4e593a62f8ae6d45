#pragma once
// Hard filters shared by every policy (DESIGN.md §3): a backend that fails one cannot serve the
// request, whatever the policy. Each returns "" when the backend passes, else a short reason.

#include <string>

#include "backend/backend.h"
#include "backend/backend_view.h"
#include "context/request_context.h"

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

}  // namespace mec

#pragma once
// The simplest policy: a fixed preference order. "auto" tries tiers in the configured order;
// "device"/"edge"/"cloud" pin a tier; any other model name pins the backends serving it. Within a
// tier, backends keep config order. Hard filters (capabilities, context window, embeddings) apply.

#include "route/router.h"

namespace mec {

class PreferenceRouter final : public Router {
 public:
  explicit PreferenceRouter(std::vector<Tier> auto_order) : auto_order_(std::move(auto_order)) {}
  Result<Decision> Decide(const RouteRequest& req, const BackendPool& pool) const override;

 private:
  std::vector<Tier> auto_order_;
};

// True when backend `b` can technically serve `req` (capabilities, context, embeddings); when not,
// `why` says what is missing. Shared by every policy.
bool CanServe(const Backend& b, const RouteRequest& req, std::string* why);

}  // namespace mec

#include "route/preference_router.h"

namespace mec {

bool CanServe(const Backend& b, const RouteRequest& req, std::string* why) {
  const auto& o = b.options();
  auto no = [&](const char* what) {
    if (why) *why = b.name() + ": " + what;
    return false;
  };
  if (req.endpoint == Endpoint::kEmbeddings) {
    if (!b.ServesEmbeddings()) return no("no embedding model");
  } else if (o.models.empty()) {
    return no("serves embeddings only");
  }
  if (req.privacy == Privacy::kDevice && b.tier() != Tier::kDevice) return no("privacy: device only");
  if (req.privacy == Privacy::kEdge && b.tier() == Tier::kCloud) return no("privacy: no cloud");
  if (req.needs_tools && !o.tools) return no("no tool calling");
  if (req.needs_json_schema && !o.json_schema) return no("no JSON-schema output");
  if (req.needs_image_input && !o.image_input) return no("no image input");
  if (req.estimated_input_tokens > o.context_window) return no("context window too small");
  return true;
}

Result<Decision> PreferenceRouter::Decide(const RouteRequest& req, const BackendPool& pool) const {
  Decision d;
  d.policy = "preference";
  std::vector<Tier> tiers;
  bool by_model = false;
  if (req.model == "auto") {
    tiers = auto_order_;
  } else if (auto t = ParseTier(req.model)) {
    tiers = {*t};
  } else {
    by_model = true;
  }
  std::string why;
  size_t matched = 0;
  auto consider = [&](const Backend& b) {
    ++matched;
    std::string w;
    if (CanServe(b, req, &w)) d.chain.push_back(b.index());
    else if (why.empty()) why = w;
  };
  if (by_model) {
    for (const auto& b : pool.all())
      if (b->Serves(req.model)) consider(*b);
    if (matched == 0) return Status::NotFound("The model `" + req.model + "` does not exist or no backend serves it.");
  } else {
    for (Tier t : tiers)
      for (const auto& b : pool.all())
        if (b->tier() == t) consider(*b);
    if (matched == 0) return Status::NotFound("No backend is configured for `" + req.model + "`.");
  }
  if (d.chain.empty()) return Status::Unavailable("No backend can serve this request (" + why + ").");
  d.reason = (by_model ? "model " + req.model : "order " + req.model) + ": " + pool.at(d.chain[0]).name() +
             (d.chain.size() > 1 ? " then " + std::to_string(d.chain.size() - 1) + " fallback(s)" : "");
  return d;
}

}  // namespace mec

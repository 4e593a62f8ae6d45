#include "route/filters.h"

#include <fmt/format.h>

namespace mec {

std::string FilterPrivacy(const RequestContext& ctx, const Backend& b) {
  if (ctx.privacy == Privacy::kDevice && b.tier() != Tier::kDevice) return "privacy=device";
  if (ctx.privacy == Privacy::kEdge && b.tier() == Tier::kCloud) return "privacy=edge";
  return "";
}

std::string FilterModel(const RequestContext& ctx, const Backend& b) {
  if (ctx.model == "auto") return "";
  if (auto t = ParseTier(ctx.model)) return *t == b.tier() ? "" : "tier pinned to " + ctx.model;
  return b.Serves(ctx.model) ? "" : "does not serve " + ctx.model;
}

std::string FilterCapabilities(const RequestContext& ctx, const Backend& b) {
  const auto& o = b.options();
  if (ctx.endpoint == Endpoint::kEmbeddings) {
    if (!b.ServesEmbeddings()) return "no embedding model";
  } else if (o.models.empty()) {
    return "embeddings only";
  }
  if (ctx.needs_tools && !o.tools) return "no tool calling";
  if (ctx.needs_json_schema && !o.json_schema) return "no JSON-schema output";
  if (ctx.needs_image_input && !o.image_input) return "no image input";
  return "";
}

std::string FilterContextWindow(const RequestContext& ctx, const Backend& b) {
  const double need = static_cast<double>(ctx.input_tokens) + (ctx.output_capped ? ctx.output_tokens : 0.0);
  if (need > static_cast<double>(b.options().context_window))
    return fmt::format("context {} > {} tokens", static_cast<int64_t>(need), b.options().context_window);
  return "";
}

std::string FilterHealth(const BackendView& v) {
  if (v.routable) return "";
  return std::string(HealthStateName(v.health));
}

std::string FilterReachable(const RequestContext& ctx, const Backend& b) {
  if (ctx.network.link == LinkType::kOffline && b.tier() != Tier::kDevice) return "client offline";
  if (b.tier() == Tier::kDevice && ctx.device && ctx.device->thermal == Thermal::kCritical) return "device thermal critical";
  return "";
}

std::string HardFilters(const RequestContext& ctx, const Backend& b, const BackendView& v) {
  for (auto* f : {&FilterPrivacy, &FilterModel, &FilterCapabilities, &FilterContextWindow, &FilterReachable}) {
    std::string why = (*f)(ctx, b);
    if (!why.empty()) return why;
  }
  return FilterHealth(v);
}

}  // namespace mec

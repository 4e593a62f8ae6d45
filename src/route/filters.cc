#include "route/filters.h"

#include <algorithm>

#include <fmt/format.h>

namespace mec {
namespace {

bool PrivacyKeeps(const RequestContext& ctx, const Backend& b) {
  if (!((ctx.key_tiers >> static_cast<int>(b.tier())) & 1)) return false;  // the API key's tiers
  if (ctx.privacy == Privacy::kDevice) return b.tier() == Tier::kDevice;
  if (ctx.privacy == Privacy::kEdge) return b.tier() != Tier::kCloud;
  return true;
}

bool ModelKeeps(const RequestContext& ctx, const Backend& b) {
  if (ctx.model == "auto") return true;
  if (auto t = ParseTier(ctx.model)) return *t == b.tier();
  return b.Serves(ctx.model);
}

double ContextNeed(const RequestContext& ctx) {
  return static_cast<double>(ctx.input_tokens) + (ctx.output_capped ? ctx.output_tokens : 0.0);
}

bool ContextWindowKeeps(const RequestContext& ctx, const Backend& b) {
  return !(ContextNeed(ctx) > static_cast<double>(b.options().context_window));
}

bool ReachableKeeps(const RequestContext& ctx, const Backend& b) {
  if (ctx.network.link == LinkType::kOffline && b.tier() != Tier::kDevice) return false;
  return !(b.tier() == Tier::kDevice && ctx.device && ctx.device->thermal == Thermal::kCritical);
}

// A hard filter plugin over a predicate and the free function that says why.
template <bool (*KeepFn)(const RequestContext&, const Backend&), std::string (*WhyFn)(const RequestContext&, const Backend&)>
class BackendFilter final : public Filter {
 public:
  explicit BackendFilter(std::string_view name) : name_(name) {}
  std::string_view name() const override { return name_; }
  bool Keep(const RequestContext& ctx, const Backend& b, const BackendView&) const override { return KeepFn(ctx, b); }
  std::string Why(const RequestContext& ctx, const Backend& b, const BackendView&) const override { return WhyFn(ctx, b); }

 private:
  std::string_view name_;
};

// Why the backend lacks a capability the request needs, or nullptr.
const char* MissingCapability(const RequestContext& ctx, const Backend& b) {
  const auto& o = b.options();
  if (ctx.endpoint == Endpoint::kEmbeddings) {
    if (!b.ServesEmbeddings()) return "no embedding model";
  } else if (o.models.empty()) {
    return "embeddings only";
  }
  if (ctx.needs_tools && !o.tools) return "no tool calling";
  if (ctx.needs_json_schema && !o.json_schema) return "no JSON-schema output";
  if (ctx.needs_image_input && !o.image_input) return "no image input";
  return nullptr;
}

bool CapabilitiesKeep(const RequestContext& ctx, const Backend& b) { return MissingCapability(ctx, b) == nullptr; }

class HealthFilter final : public Filter {
 public:
  std::string_view name() const override { return "health"; }
  bool Keep(const RequestContext&, const Backend&, const BackendView& v) const override { return v.routable; }
  std::string Why(const RequestContext&, const Backend&, const BackendView& v) const override { return FilterHealth(v); }
};

const BackendFilter<PrivacyKeeps, FilterPrivacy> kPrivacy("privacy");
const BackendFilter<ModelKeeps, FilterModel> kModel("model");
const BackendFilter<CapabilitiesKeep, FilterCapabilities> kCapabilities("capabilities");
const BackendFilter<ContextWindowKeeps, FilterContextWindow> kContextWindow("context-window");
const BackendFilter<ReachableKeeps, FilterReachable> kReachable("reachable");
const HealthFilter kHealth;
const Filter* const kHardChain[] = {&kPrivacy, &kModel, &kCapabilities, &kContextWindow, &kReachable, &kHealth};

class TierFilter final : public Filter {
 public:
  TierFilter(std::string_view name, Tier tier) : name_(name), tier_(tier) {}
  std::string_view name() const override { return name_; }
  bool Keep(const RequestContext&, const Backend& b, const BackendView&) const override { return b.tier() == tier_; }
  std::string Why(const RequestContext&, const Backend&, const BackendView&) const override {
    return fmt::format("{} only", TierName(tier_));
  }

 private:
  std::string_view name_;
  Tier tier_;
};

class AutoOrderFilter final : public Filter {
 public:
  explicit AutoOrderFilter(std::vector<Tier> order) : order_(std::move(order)) {}
  std::string_view name() const override { return "auto-order"; }
  bool Keep(const RequestContext& ctx, const Backend& b, const BackendView&) const override {
    return ctx.model != "auto" || std::find(order_.begin(), order_.end(), b.tier()) != order_.end();
  }
  std::string Why(const RequestContext&, const Backend&, const BackendView&) const override { return "not in auto_order"; }

 private:
  std::vector<Tier> order_;
};

}  // namespace

std::string FilterPrivacy(const RequestContext& ctx, const Backend& b) {
  if (!((ctx.key_tiers >> static_cast<int>(b.tier())) & 1)) return "the API key does not allow the " + std::string(TierName(b.tier())) + " tier";
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
  const char* missing = MissingCapability(ctx, b);
  return missing ? missing : "";
}

std::string FilterContextWindow(const RequestContext& ctx, const Backend& b) {
  if (ContextWindowKeeps(ctx, b)) return "";
  return fmt::format("context {} > {} tokens", static_cast<int64_t>(ContextNeed(ctx)), b.options().context_window);
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

std::span<const Filter* const> HardFilterChain() { return kHardChain; }

std::string HardFilters(const RequestContext& ctx, const Backend& b, const BackendView& v, bool* serves_model) {
  *serves_model = ModelKeeps(ctx, b);
  // Most backends pass: the predicates inline, without the chain's virtual calls.
  if (*serves_model && PrivacyKeeps(ctx, b) && CapabilitiesKeep(ctx, b) && ContextWindowKeeps(ctx, b) && ReachableKeeps(ctx, b) &&
      v.routable)
    return "";
  for (const Filter* f : kHardChain)
    if (!(f == &kModel ? *serves_model : f->Keep(ctx, b, v))) return f->Why(ctx, b, v);
  return "";
}

std::string HardFilters(const RequestContext& ctx, const Backend& b, const BackendView& v) {
  bool serves = false;
  return HardFilters(ctx, b, v, &serves);
}

std::unique_ptr<Filter> MakeFilter(std::string_view name, const PolicyOptions& o) {
  if (name == "cloud-tier") return std::make_unique<TierFilter>("cloud-tier", Tier::kCloud);
  if (name == "edge-tier") return std::make_unique<TierFilter>("edge-tier", Tier::kEdge);
  if (name == "device-tier") return std::make_unique<TierFilter>("device-tier", Tier::kDevice);
  if (name == "auto-order") return std::make_unique<AutoOrderFilter>(o.auto_order);
  return nullptr;
}

}  // namespace mec

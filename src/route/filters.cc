#include "route/filters.h"

#include <algorithm>

#include <fmt/format.h>

namespace mec {
namespace {

bool PrivacyKeepsTier(const RequestContext& ctx, Tier t) {
  if (!((ctx.key_tiers >> static_cast<int>(t)) & 1)) return false;  // the API key's tiers
  if (ctx.privacy == Privacy::kDevice) return t == Tier::kDevice;
  if (ctx.privacy == Privacy::kEdge) return t != Tier::kCloud;
  return true;
}
bool PrivacyKeeps(const RequestContext& ctx, const Backend& b) { return PrivacyKeepsTier(ctx, b.tier()); }

bool ModelKeeps(const RequestContext& ctx, const Backend& b) {
  if (ctx.auto_model()) return true;
  if (auto t = ParseTier(ctx.model)) return *t == b.tier();
  return b.Serves(ctx.model);
}

double ContextNeed(const RequestContext& ctx) {
  return static_cast<double>(ctx.input_tokens) + (ctx.output_capped ? ctx.output_tokens : 0.0);
}

bool ContextWindowKeeps(const RequestContext& ctx, const Backend& b) {
  return !(ContextNeed(ctx) > static_cast<double>(b.options().context_window));
}

bool ReachableKeepsTier(const RequestContext& ctx, Tier t) {
  if (ctx.network.link == LinkType::kOffline && t != Tier::kDevice) return false;
  return !(t == Tier::kDevice && ctx.device && ctx.device->thermal == Thermal::kCritical);
}
bool ReachableKeeps(const RequestContext& ctx, const Backend& b) { return ReachableKeepsTier(ctx, b.tier()); }

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
    return !ctx.auto_model() || std::find(order_.begin(), order_.end(), b.tier()) != order_.end();
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
  if (ctx.auto_model()) return "";
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

HardFilterTerms HardFilterTermsOf(const RequestContext& ctx) {
  HardFilterTerms terms;
  for (int i = 0; i < kTierCount; ++i) {
    const Tier t = static_cast<Tier>(i);
    if (PrivacyKeepsTier(ctx, t) && ReachableKeepsTier(ctx, t)) terms.tiers |= static_cast<uint8_t>(1u << i);
  }
  terms.any_model = ctx.auto_model();
  if (!terms.any_model) terms.model_tier = ParseTier(ctx.model);
  terms.context_need = ContextNeed(ctx);
  return terms;
}

const Filter* FirstHardFilter(const HardFilterTerms& terms, const RequestContext& ctx, const Backend& b, const BackendView& v,
                              bool* serves_model) {
  const bool serves = terms.any_model || (terms.model_tier ? *terms.model_tier == b.tier() : b.Serves(ctx.model));
  *serves_model = serves;
  // Most backends pass: the request's part of each predicate was computed once, no virtual call.
  if (serves && ((terms.tiers >> static_cast<int>(b.tier())) & 1) && CapabilitiesKeep(ctx, b) &&
      !(terms.context_need > static_cast<double>(b.options().context_window)) && v.routable)
    return nullptr;
  for (const Filter* f : kHardChain)
    if (!(f == &kModel ? serves : f->Keep(ctx, b, v))) return f;
  return nullptr;
}

std::string HardFilters(const RequestContext& ctx, const Backend& b, const BackendView& v, bool* serves_model) {
  const Filter* f = FirstHardFilter(HardFilterTermsOf(ctx), ctx, b, v, serves_model);
  return f ? f->Why(ctx, b, v) : "";
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

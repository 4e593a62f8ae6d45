#include "route/policies.h"

#include "route/profile.h"

namespace mec {
namespace {

// The built-in policies as profiles (docs/routing.md has the table). Their reason heads and
// plugins reproduce, byte for byte, what each policy decided and said before profiles existed.
std::vector<ProfileOptions> BuiltinProfiles() {
  auto make = [](const char* name, std::vector<std::string> filters, std::vector<ScorerWeight> scorers, const char* picker,
                 const char* reason) {
    ProfileOptions p;
    p.name = name;
    p.filters = std::move(filters);
    p.scorers = std::move(scorers);
    p.picker = picker;
    p.reason = reason;
    return p;
  };
  return {
      make("adaptive", {}, {}, "adaptive", ""),
      make("cloud-only", {"cloud-tier"}, {{"load", 1}}, "max-score", "cloud only"),
      // Among edge replicas, the one that holds the prompt's prefix unless it is far busier (the
      // prefix share, weight 2, against the load's normalized spread, 1; llm-d weighs prefix 3
      // against queue 2 and KV 2).
      make("edge-only", {"edge-tier"}, {{"load", 1}, {"prefix", 2}}, "max-score", "edge only"),
      make("device-only", {"device-tier"}, {{"load", 1}}, "max-score", "device only"),
      // Nearest tier first, then the least loaded: load's weight is below the 0.5 between tiers.
      make("static", {}, {{"tier-distance", 1}, {"load", 0.01}}, "max-score", "static"),
      make("round-robin", {}, {}, "round-robin", ""),
      make("random", {}, {}, "random", ""),
      make("least-latency", {}, {{"latency", 1}}, "max-score", ""),
      make("least-busy", {}, {{"load", 1}}, "max-score", ""),
      make("cost-first", {}, {{"cost", 1}}, "max-score", ""),
      make("preference", {"auto-order"}, {{"tier-order", 1}}, "max-score", "preference order"),
  };
}

const std::vector<ProfileOptions>& Builtins() {
  static const std::vector<ProfileOptions> kBuiltins = BuiltinProfiles();
  return kBuiltins;
}

}  // namespace

const std::vector<ProfileOptions>& BuiltinProfileOptions() { return Builtins(); }

const std::vector<std::string>& PolicyNames() {
  static const std::vector<std::string> kNames = [] {
    std::vector<std::string> v;
    for (const auto& p : Builtins()) v.push_back(p.name);
    return v;
  }();
  return kNames;
}

std::vector<std::string> PolicyNames(const PolicyOptions& options) {
  std::vector<std::string> v = PolicyNames();
  for (const auto& p : options.profiles) v.push_back(p.name);
  return v;
}

std::unique_ptr<Router> MakePolicy(std::string_view name, const PolicyOptions& options) {
  const ProfileOptions* spec = nullptr;
  for (const auto& p : Builtins())
    if (p.name == name) spec = &p;
  for (const auto& p : options.profiles)
    if (!spec && p.name == name) spec = &p;
  if (!spec) return nullptr;
  auto r = MakeProfile(*spec, options);
  return r.ok() ? std::move(*r) : nullptr;
}

}  // namespace mec

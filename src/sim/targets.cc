#include "sim/targets.h"

#include <fmt/format.h>

#include "context/use_cases.h"

namespace mec::sim {
namespace {

const PolicyMetrics* Find(const std::vector<PolicyMetrics>& v, std::string_view name) {
  for (const auto& m : v)
    if (m.policy == name) return &m;
  return nullptr;
}

// The use case whose as-good share is closest to (or furthest below) its minimum.
std::string WorstContract(const PolicyMetrics& m) {
  std::string worst = "no use case";
  double worst_gap = 2;
  for (const auto& [key, u] : m.use_cases) {
    if (u.requests == 0) continue;
    const double gap = u.as_good_share - u.min_quality;
    if (gap < worst_gap) {
      worst_gap = gap;
      worst = fmt::format("{} {:.3f} vs min {:.2f}", key, u.as_good_share, u.min_quality);
    }
  }
  return worst;
}

}  // namespace

bool IsBaseline(std::string_view policy) { return policy != "adaptive" && policy != "oracle"; }

std::vector<TargetResult> EvaluateTargets(const std::vector<PolicyMetrics>& v, const Scenario& s) {
  std::vector<TargetResult> out;
  const PolicyMetrics* a = Find(v, "adaptive");
  const PolicyMetrics* c = Find(v, "cloud-only");
  const PolicyMetrics* o = Find(v, "oracle");
  if (!a || !c || !o) return out;
  auto ratio = [](double x, double base) { return base != 0 ? x / base : 0.0; };
  const double ttft = ratio(a->tc_ttft_ms.p95, c->tc_ttft_ms.p95);
  out.push_back({"time-critical TTFT p95 vs cloud-only", fmt::format("{:.2f}x ({:.0f} vs {:.0f} ms; target <= 0.6x)", ttft, a->tc_ttft_ms.p95,
                                                                      c->tc_ttft_ms.p95),
                 ttft <= 0.6});
  const double att = a->tc_deadline_attainment - o->tc_deadline_attainment;
  out.push_back({"time-critical deadline attainment vs oracle", fmt::format("{:+.1f} points (target >= -1)", 100 * att), att >= -0.01});
  const double cost = ratio(a->cost_usd, c->cost_usd);
  out.push_back({"cost vs cloud-only", fmt::format("{:.2f}x (target <= 0.6x)", cost), cost <= 0.6});
  out.push_back({"quality contract in every use case (worst)", WorstContract(*a), a->contract_kept});
  out.push_back({"availability", fmt::format("{:.3f}% (target >= 99.95%)", 100 * a->availability), a->availability >= 0.9995});
  // U above every baseline that keeps the contract (a policy that breaks it may not be run).
  const PolicyMetrics* best = nullptr;
  std::string broken;
  for (const auto& m : v) {
    if (!IsBaseline(m.policy)) continue;
    if (!m.contract_kept) {
      broken += (broken.empty() ? "" : ", ") + m.policy;
      continue;
    }
    if (!best || m.utility > best->utility) best = &m;
  }
  if (best)
    out.push_back({"mean U above every contract-keeping baseline",
                   fmt::format("{:.3f} vs {:.3f} ({}; breaking the contract: {})", a->utility, best->utility, best->policy,
                               broken.empty() ? "none" : broken),
                   a->utility > best->utility});
  const double gain = o->utility - c->utility;
  const double rec = gain != 0 ? (a->utility - c->utility) / gain : 0;
  out.push_back({"share of the contract-keeping oracle's U gain over cloud-only",
                 fmt::format("{:.1f}% (target >= 70%; oracle U {:.3f}, contract {})", 100 * rec, o->utility, o->contract_kept ? "kept" : "BROKEN"),
                 rec >= 0.7 && o->contract_kept});
  (void)s;
  return out;
}

std::string TargetsTable(const std::vector<TargetResult>& targets) {
  if (targets.empty()) return "";
  std::string t = "\nissue 14 targets (adaptive; reported, not tuned):\n";
  for (const auto& r : targets) t += fmt::format("  {:<4} {:<62} {}\n", r.pass ? "ok" : "MISS", r.name, r.value);
  return t;
}

}  // namespace mec::sim

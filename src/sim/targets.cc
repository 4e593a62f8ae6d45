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

}  // namespace

std::vector<TargetResult> EvaluateTargets(const std::vector<PolicyMetrics>& v, const Scenario& s) {
  std::vector<TargetResult> out;
  const PolicyMetrics* a = Find(v, "adaptive");
  const PolicyMetrics* c = Find(v, "cloud-only");
  const PolicyMetrics* o = Find(v, "oracle");
  if (!a || !c || !o) return out;
  auto rel = [](double x, double base) { return base != 0 ? x / base - 1 : 0.0; };
  const double p95 = rel(a->tc_e2e_ms.p95, c->tc_e2e_ms.p95);
  out.push_back({"time-critical p95 e2e vs cloud-only", fmt::format("{:+.1f}% (target <= -40%)", 100 * p95), p95 <= -0.40});
  const double att = a->tc_deadline_attainment - o->tc_deadline_attainment;
  out.push_back({"time-critical deadline attainment vs oracle", fmt::format("{:+.1f} points (target >= -2)", 100 * att), att >= -0.02});
  const double cost = rel(a->cost_usd, c->cost_usd);
  out.push_back({"cost vs cloud-only", fmt::format("{:+.1f}% (target <= -25%)", 100 * cost), cost <= -0.25});
  const double mean = rel(a->e2e_ms.mean, c->e2e_ms.mean);
  out.push_back({"mean e2e vs cloud-only", fmt::format("{:+.1f}% (target <= +5%)", 100 * mean), mean <= 0.05});
  out.push_back({"availability", fmt::format("{:.3f}% (target >= 99.9%)", 100 * a->availability), a->availability >= 0.999});
  std::string worst;
  double worst_gap = 1;
  bool contract = true;
  for (const auto& [key, u] : a->use_cases) {
    const UseCaseDefaults* d = FindUseCase(key);
    if (!d || u.requests == 0) continue;
    const double gap = u.as_good_share - d->min_quality;
    if (gap < worst_gap) {
      worst_gap = gap;
      worst = fmt::format("{} {:.3f} vs min {:.2f}", key, u.as_good_share, d->min_quality);
    }
    contract &= gap >= 0;
  }
  out.push_back({"quality contract in every use case (worst)", worst, contract});
  const double acc = c->quality > 0 ? a->quality / c->quality : 0;
  out.push_back({"accuracy vs cloud-only", fmt::format("{:.1f}% of cloud-only's (target >= 90%)", 100 * acc), acc >= 0.9});
  for (const char* base : {"least-latency", "cost-first", "static"}) {
    if (const PolicyMetrics* b = Find(v, base))
      out.push_back({fmt::format("mean U beats {}", base), fmt::format("{:.3f} vs {:.3f}", a->utility, b->utility), a->utility > b->utility});
  }
  const double gain = o->utility - c->utility;
  const double rec = gain != 0 ? (a->utility - c->utility) / gain : 0;
  out.push_back({"share of the oracle's U gain over cloud-only", fmt::format("{:.1f}% (target >= 60%, aim 80%)", 100 * rec), rec >= 0.6});
  (void)s;
  return out;
}

std::string TargetsTable(const std::vector<TargetResult>& targets) {
  if (targets.empty()) return "";
  std::string t = "\nissue 5 targets (adaptive; reported, not tuned):\n";
  for (const auto& r : targets) t += fmt::format("  {:<4} {:<46} {}\n", r.pass ? "ok" : "MISS", r.name, r.value);
  return t;
}

}  // namespace mec::sim

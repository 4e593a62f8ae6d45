#include "route/adaptive_picker.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace mec {
namespace {

std::string Money(double usd) { return fmt::format("${:.6f}", usd); }

template <typename Key>
void SortBy(std::vector<int>& ids, const CandidateSet& cs, Key key) {
  std::stable_sort(ids.begin(), ids.end(), [&](int a, int b) { return key(cs.all[a]) < key(cs.all[b]); });
}

}  // namespace

void AdaptivePicker::Pick(Cycle& cycle, std::string& reason) const {
  const RequestContext& ctx = cycle.ctx;
  const RouteEnv& env = cycle.env;
  CandidateSet& cs = cycle.cs;
  std::vector<int>& ids = cycle.ids;
  const double target = deadline_target_;
  // The minimum quality: a floor on this request, or its class's running average
  // (learn/quality_budget.h) for "auto" requests when a controller is given.
  QualityGate gate;
  gate.min_quality = ctx.min_quality;
  const bool per_request = ctx.min_quality_per_request.value_or(min_quality_per_request_);
  if (!per_request && env.quality_budget && ctx.model == "auto") gate = env.quality_budget->Gate(ctx.use_case, ctx.min_quality);
  cycle.decision.quality_gate = gate;
  const double bar = gate.Bar();
  const std::string bar_text = gate.slot < 0 ? fmt::format("{:.2f}", bar) : fmt::format("{:.2f} (class mean >= {:.2f})", bar, gate.target);
  auto meets_deadline = [&](const Candidate& c) { return c.p_meet >= target; };
  auto meets_quality = [&](const Candidate& c) { return gate.Admits(c.quality); };
  std::vector<int> feasible, rest;
  for (int i : ids) (meets_deadline(cs.all[i]) && meets_quality(cs.all[i]) ? feasible : rest).push_back(i);

  // Why the others were ruled out, for the reason line (at most two, most relevant first).
  std::string ruled_out;
  int shown = 0;
  for (int i : rest) {
    const auto& c = cs.all[i];
    if (shown == 2) break;
    std::string why = !meets_deadline(c) ? fmt::format("deadline {}ms rules out {} (p(meet)={:.2f})", ctx.deadline_ms.value_or(0), TierName(c.tier), c.p_meet)
                                         : fmt::format("{} quality {:.2f}<{:.2f}", TierName(c.tier), c.quality, bar);
    if (ruled_out.find(why) != std::string::npos) continue;
    ruled_out += (ruled_out.empty() ? "" : "; ") + why;
    ++shown;
  }
  std::string prefix = ruled_out.empty() ? "" : ruled_out + "; ";

  if (!feasible.empty()) {
    for (int i : feasible) cs.all[i].score = -cs.all[i].cost_usd;
    SortBy(feasible, cs, [](const Candidate& c) { return c.cost_usd; });
    const double cheapest = cs.all[feasible.front()].cost_usd;
    // Near-ties on cost: prefer the more certain, then the faster.
    auto tie_end = std::find_if(feasible.begin(), feasible.end(), [&](int i) { return cs.all[i].cost_usd > cheapest * (1 + cost_tie_) + 1e-9; });
    std::stable_sort(feasible.begin(), tie_end, [&](int a, int b) {
      const auto &x = cs.all[a], &y = cs.all[b];
      if (std::abs(x.p_meet - y.p_meet) > 0.02) return x.p_meet > y.p_meet;
      return x.latency_s < y.latency_s;
    });
    SortBy(rest, cs, [](const Candidate& c) { return -(c.p_meet * c.quality); });
    const auto& p = cs.all[feasible.front()];
    ids = feasible;
    ids.insert(ids.end(), rest.begin(), rest.end());
    reason = prefix + fmt::format("{} meets quality {:.2f}>={}{} at {}", TierName(p.tier), p.quality, bar_text,
                                  ctx.deadline_ms ? fmt::format(" and p(meet)={:.2f}", p.p_meet) : "", Money(p.cost_usd));
    return;
  }
  // Degrade: (1) keep the deadline, best quality; (2) keep the quality, best p(meet); (3) both.
  std::vector<int> deadline_ok, quality_ok;
  for (int i : ids) {
    if (meets_deadline(cs.all[i])) deadline_ok.push_back(i);
    if (meets_quality(cs.all[i])) quality_ok.push_back(i);
  }
  std::string how;
  if (!deadline_ok.empty()) {
    SortBy(ids, cs, [&](const Candidate& c) { return std::make_pair(meets_deadline(c) ? 0 : 1, -c.quality); });
    how = fmt::format("degraded: no tier meets quality {} in time; best quality within the deadline", bar_text);
  } else if (!quality_ok.empty()) {
    SortBy(ids, cs, [&](const Candidate& c) { return std::make_pair(meets_quality(c) ? 0 : 1, -c.p_meet); });
    how = "degraded: no tier meets the deadline; best p(meet) at the required quality";
  } else {
    SortBy(ids, cs, [](const Candidate& c) { return -(c.p_meet * c.quality); });
    how = "degraded: nothing meets deadline or quality; best p(meet) x quality";
  }
  const auto& p = cs.all[ids.front()];
  reason = prefix + how + fmt::format(": {} (quality {:.2f}, p(meet)={:.2f}, {})", TierName(p.tier), p.quality, p.p_meet, Money(p.cost_usd));
}

}  // namespace mec

#include "route/adaptive_picker.h"

#include <algorithm>
#include <cmath>
#include <iterator>

#include <fmt/compile.h>
#include <fmt/format.h>

#include "route/reason_text.h"
#include "route/stable_order.h"

namespace mec {
namespace {

template <typename Key>
void SortBy(std::vector<int>::iterator first, std::vector<int>::iterator last, const CandidateSet& cs, Key key) {
  StableOrderByKey(first, last, [&](int i) { return key(cs.all[i]); });
}

// The minimum quality as the reason line states it: "0.80", or "0.84 (class mean >= 0.85)".
void AppendBar(std::string& out, const QualityGate& gate, double bar) {
  AppendFixed(out, bar, 2);
  if (gate.slot < 0) return;
  out += " (class mean >= ";
  AppendFixed(out, gate.target, 2);
  out += ')';
}

// A candidate already explained in the reason line: the same reason about the same tier with the
// same value formats to the same text (so skipping it is what the text search would decide).
struct Explained {
  bool deadline;
  Tier tier;
  double value;
};

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
  auto meets_deadline = [&](const Candidate& c) { return c.p_meet >= target; };
  auto meets_quality = [&](const Candidate& c) { return QualityGate::AdmitsAtBar(c.quality, bar); };

  // Feasible candidates first, the rest after, each in pool order.
  const size_t n = ids.size();
  std::vector<int> order(n);
  size_t feasible_end = 0, rest_begin = n;
  for (int i : ids)
    if (meets_deadline(cs.all[i]) && meets_quality(cs.all[i])) order[feasible_end++] = i;
  for (size_t k = n; k-- > 0;)
    if (!(meets_deadline(cs.all[ids[k]]) && meets_quality(cs.all[ids[k]]))) order[--rest_begin] = ids[k];
  const auto feasible = order.begin(), rest = order.begin() + static_cast<long>(feasible_end);

  // Why the others were ruled out, for the reason line (at most two, most relevant first; a text
  // already given is not repeated).
  reason.reserve(200);
  Explained seen[8];
  size_t num_seen = 0;
  int shown = 0;
  for (auto it = rest; it != order.end() && shown < 2; ++it) {
    const auto& c = cs.all[*it];
    const Explained e{!meets_deadline(c), c.tier, !meets_deadline(c) ? c.p_meet : c.quality};
    if (std::any_of(seen, seen + num_seen, [&](const Explained& s) { return s.deadline == e.deadline && s.tier == e.tier && s.value == e.value; }))
      continue;
    if (num_seen < std::size(seen)) seen[num_seen++] = e;
    // Written in place, then taken back if the line already says it.
    const size_t before = reason.size();
    if (before > 0) reason += "; ";
    const size_t start = reason.size();
    if (e.deadline) {
      reason += "deadline ";
      AppendShortest(reason, ctx.deadline_ms.value_or(0));
      reason += "ms rules out ";
      reason += TierName(c.tier);
      reason += " (p(meet)=";
      AppendFixed(reason, c.p_meet, 2);
      reason += ')';
    } else {
      reason += TierName(c.tier);
      reason += " quality ";
      AppendFixed(reason, c.quality, 2);
      reason += '<';
      AppendFixed(reason, bar, 2);
    }
    const std::string_view text(reason.data() + start, reason.size() - start);
    if (std::string_view(reason.data(), before).find(text) != std::string_view::npos) {
      reason.resize(before);
      continue;
    }
    ++shown;
  }
  if (!reason.empty()) reason += "; ";

  if (feasible_end > 0) {
    for (auto it = feasible; it != rest; ++it) cs.all[*it].score = -cs.all[*it].cost_usd;
    SortBy(feasible, rest, cs, [](const Candidate& c) { return c.cost_usd; });
    const double cheapest = cs.all[*feasible].cost_usd;
    // Near-ties on cost: prefer the more certain, then the faster. (Not a strict weak order, so
    // std::stable_sort's own merge order is part of the behaviour.)
    auto tie_end = std::find_if(feasible, rest, [&](int i) { return cs.all[i].cost_usd > cheapest * (1 + cost_tie_) + 1e-9; });
    if (tie_end - feasible > 1) {
      std::stable_sort(feasible, tie_end, [&](int a, int b) {
        const auto &x = cs.all[a], &y = cs.all[b];
        if (std::abs(x.p_meet - y.p_meet) > 0.02) return x.p_meet > y.p_meet;
        return x.latency_s < y.latency_s;
      });
      // Spread: the leader or another tied candidate of its tier within `spread` of its latency
      // and holding as much of the prompt (prefix affinity stays), at random (all meet the
      // deadline target and the quality); the others keep their order.
      if (spread_ > 0) {
        const Candidate& lead = cs.all[*feasible];
        int near[8];
        size_t num_near = 0;
        for (auto it = feasible; it != tie_end && num_near < std::size(near); ++it) {
          const Candidate& c = cs.all[*it];
          if (c.tier == lead.tier && c.prefix_tokens == lead.prefix_tokens && c.latency_s <= lead.latency_s * (1 + spread_))
            near[num_near++] = static_cast<int>(it - feasible);
        }
        if (num_near > 1) {
          const auto chosen = feasible + near[env.rng.Below(num_near)];
          std::rotate(feasible, chosen, chosen + 1);
        }
      }
    }
    SortBy(rest, order.end(), cs, [](const Candidate& c) { return -(c.p_meet * c.quality); });
    ids.assign(order.begin(), order.end());
    const auto& p = cs.all[ids.front()];
    reason += TierName(p.tier);
    reason += " meets quality ";
    AppendFixed(reason, p.quality, 2);
    reason += ">=";
    AppendBar(reason, gate, bar);
    if (ctx.deadline_ms) {
      reason += " and p(meet)=";
      AppendFixed(reason, p.p_meet, 2);
    }
    reason += " at $";
    AppendFixed(reason, p.cost_usd, 6);
    return;
  }
  // Degrade: (1) keep the deadline, best quality; (2) keep the quality, best p(meet); (3) both.
  const bool any_deadline = std::any_of(ids.begin(), ids.end(), [&](int i) { return meets_deadline(cs.all[i]); });
  const bool any_quality = std::any_of(ids.begin(), ids.end(), [&](int i) { return meets_quality(cs.all[i]); });
  if (any_deadline) {
    SortBy(ids.begin(), ids.end(), cs, [&](const Candidate& c) { return std::make_pair(meets_deadline(c) ? 0 : 1, -c.quality); });
    reason += "degraded: no tier meets quality ";
    AppendBar(reason, gate, bar);
    reason += " in time; best quality within the deadline";
  } else if (any_quality) {
    SortBy(ids.begin(), ids.end(), cs, [&](const Candidate& c) { return std::make_pair(meets_quality(c) ? 0 : 1, -c.p_meet); });
    reason += "degraded: no tier meets the deadline; best p(meet) at the required quality";
  } else {
    SortBy(ids.begin(), ids.end(), cs, [](const Candidate& c) { return -(c.p_meet * c.quality); });
    reason += "degraded: nothing meets deadline or quality; best p(meet) x quality";
  }
  const auto& p = cs.all[ids.front()];
  reason += ": ";
  reason += TierName(p.tier);
  reason += " (quality ";
  AppendFixed(reason, p.quality, 2);
  reason += ", p(meet)=";
  AppendFixed(reason, p.p_meet, 2);
  reason += ", $";
  AppendFixed(reason, p.cost_usd, 6);
  reason += ')';
}

}  // namespace mec

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

// Stable order by (in_first(c) ? 0 : 1, key(c)): a stable partition, then each part by its key.
// The same order as sorting by that pair, with cheaper comparisons.
template <typename InFirst, typename Key>
void SortByGroupThenKey(std::vector<int>::iterator first, std::vector<int>::iterator last, const CandidateSet& cs,
                        InFirst in_first, Key key) {
  const auto mid = StablePartition(first, last, [&](int i) { return in_first(cs.all[i]); });
  SortBy(first, mid, cs, key);
  SortBy(mid, last, cs, key);
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

// What Pick weighs every candidate by.
struct Bars {
  double target;  // P(meet) the deadline needs
  double bar;     // the minimum quality
  bool MeetsDeadline(const Candidate& c) const { return c.p_meet >= target; }
  bool MeetsQuality(const Candidate& c) const { return QualityGate::AdmitsAtBar(c.quality, bar); }
  bool Feasible(const Candidate& c) const { return MeetsDeadline(c) && MeetsQuality(c); }
};

using Ids = std::vector<int>::iterator;

// Why the candidates in [first, last) were ruled out, for the reason line: at most two, most
// relevant first, a text already given not repeated; then "; " when the line is not empty.
void AppendRuledOut(const RequestContext& ctx, const CandidateSet& cs, Ids first, Ids last, const Bars& b, std::string& reason) {
  reason.reserve(200);
  Explained seen[8];
  size_t num_seen = 0;
  int shown = 0;
  for (auto it = first; it != last && shown < 2; ++it) {
    const auto& c = cs.all[*it];
    const Explained e{!b.MeetsDeadline(c), c.tier, !b.MeetsDeadline(c) ? c.p_meet : c.quality};
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
      AppendFixed(reason, b.bar, 2);
    }
    const std::string_view text(reason.data() + start, reason.size() - start);
    if (std::string_view(reason.data(), before).find(text) != std::string_view::npos) {
      reason.resize(before);
      continue;
    }
    ++shown;
  }
  if (!reason.empty()) reason += "; ";
}

// The feasible candidates [first, last), cheapest first. Near-ties on cost (within cost_tie of the
// cheapest): the more certain, then the faster; then, with spread > 0, the leader or another tied
// candidate of its tier within `spread` of its latency and holding as much of the prompt (prefix
// affinity stays), at random (all meet the deadline target and the quality); the others keep their
// order.
void OrderFeasible(CandidateSet& cs, Ids first, Ids last, double cost_tie, double spread, Rng& rng) {
  for (auto it = first; it != last; ++it) cs.all[*it].score = -cs.all[*it].cost_usd;
  SortBy(first, last, cs, [](const Candidate& c) { return c.cost_usd; });
  const double cheapest = cs.all[*first].cost_usd;
  auto tie_end = std::find_if(first, last, [&](int i) { return cs.all[i].cost_usd > cheapest * (1 + cost_tie) + 1e-9; });
  if (tie_end - first <= 1) return;
  // Not a strict weak order, so std::stable_sort's own merge order is part of the behaviour.
  std::stable_sort(first, tie_end, [&](int a, int b) {
    const auto &x = cs.all[a], &y = cs.all[b];
    if (std::abs(x.p_meet - y.p_meet) > 0.02) return x.p_meet > y.p_meet;
    return x.latency_s < y.latency_s;
  });
  if (spread <= 0) return;
  const Candidate& lead = cs.all[*first];
  int near[8];
  size_t num_near = 0;
  for (auto it = first; it != tie_end && num_near < std::size(near); ++it) {
    const Candidate& c = cs.all[*it];
    if (c.tier == lead.tier && c.prefix_tokens == lead.prefix_tokens && c.latency_s <= lead.latency_s * (1 + spread))
      near[num_near++] = static_cast<int>(it - first);
  }
  if (num_near > 1) {
    const auto chosen = first + near[rng.Below(num_near)];
    std::rotate(first, chosen, chosen + 1);
  }
}

// Nothing meets both: (1) keep the deadline, best quality; (2) keep the quality, best p(meet);
// (3) both. Orders `ids` and ends the reason line with what was chosen.
void PickDegraded(const CandidateSet& cs, std::vector<int>& ids, const Bars& b, const QualityGate& gate, std::string& reason) {
  const bool any_deadline = std::any_of(ids.begin(), ids.end(), [&](int i) { return b.MeetsDeadline(cs.all[i]); });
  const bool any_quality = std::any_of(ids.begin(), ids.end(), [&](int i) { return b.MeetsQuality(cs.all[i]); });
  if (any_deadline) {
    SortByGroupThenKey(ids.begin(), ids.end(), cs, [&](const Candidate& c) { return b.MeetsDeadline(c); },
                       [](const Candidate& c) { return -c.quality; });
    reason += "degraded: no tier meets quality ";
    AppendBar(reason, gate, b.bar);
    reason += " in time; best quality within the deadline";
  } else if (any_quality) {
    SortByGroupThenKey(ids.begin(), ids.end(), cs, [&](const Candidate& c) { return b.MeetsQuality(c); },
                       [](const Candidate& c) { return -c.p_meet; });
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

}  // namespace

void AdaptivePicker::Pick(Cycle& cycle, std::string& reason) const {
  const RequestContext& ctx = cycle.ctx;
  const RouteEnv& env = cycle.env;
  CandidateSet& cs = cycle.cs;
  std::vector<int>& ids = cycle.ids;
  // The minimum quality: a floor on this request, or its class's running average
  // (learn/quality_budget.h) for "auto" requests when a controller is given.
  QualityGate gate;
  gate.min_quality = ctx.min_quality;
  const bool per_request = ctx.min_quality_per_request.value_or(min_quality_per_request_);
  if (!per_request && env.quality_budget && ctx.auto_model()) gate = env.quality_budget->Gate(ctx.use_case, ctx.min_quality);
  cycle.decision.quality_gate = gate;
  const Bars b{deadline_target_, gate.Bar()};

  // Feasible candidates first, the rest after, each in pool order.
  const auto feasible = ids.begin();
  const auto rest = StablePartition(ids.begin(), ids.end(), [&](int i) { return b.Feasible(cs.all[i]); });
  AppendRuledOut(ctx, cs, rest, ids.end(), b, reason);
  if (rest == feasible) {
    PickDegraded(cs, ids, b, gate, reason);
    return;
  }
  OrderFeasible(cs, feasible, rest, cost_tie_, spread_, env.rng);
  SortBy(rest, ids.end(), cs, [](const Candidate& c) { return -(c.p_meet * c.quality); });
  const auto& p = cs.all[ids.front()];
  reason += TierName(p.tier);
  reason += " meets quality ";
  AppendFixed(reason, p.quality, 2);
  reason += ">=";
  AppendBar(reason, gate, b.bar);
  if (ctx.deadline_ms) {
    reason += " and p(meet)=";
    AppendFixed(reason, p.p_meet, 2);
  }
  reason += " at $";
  AppendFixed(reason, p.cost_usd, 6);
}

}  // namespace mec

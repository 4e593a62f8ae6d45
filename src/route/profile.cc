#include "route/profile.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "route/filters.h"
#include "route/pickers.h"
#include "route/saturation.h"
#include "route/scorers.h"

namespace mec {

Profile::Profile(std::string name, std::string head, std::vector<std::unique_ptr<Filter>> filters,
                 std::vector<WeightedScorer> scorers, std::unique_ptr<Picker> picker, const PolicyOptions& o)
    : name_(std::move(name)),
      head_(std::move(head)),
      filters_(std::move(filters)),
      scorers_(std::move(scorers)),
      picker_(std::move(picker)),
      deadline_target_(o.deadline_target),
      shed_below_(o.shed_below),
      hedge_(o.hedge),
      hedge_threshold_(o.hedge_threshold) {
  for (const auto& ws : scorers_) scorer_order_.push_back(ws.scorer.get());
}

void Profile::ScoreAll(const RequestContext& ctx, const CandidateSet& cs, const std::vector<int>& ids,
                       std::vector<double>& scores) const {
  if (scorers_.empty()) return;  // scores stays empty
  scores.assign(cs.all.size(), 0.0);
  std::vector<double> one(ids.size());
  for (const auto& [scorer, weight] : scorers_) {
    scorer->Score(ctx, cs, ids, one);
    for (size_t k = 0; k < ids.size(); ++k) scores[ids[k]] += weight * one[k];
  }
}

Result<Decision> Profile::Decide(const RequestContext& ctx, const RouteEnv& env) const {
  CandidateSet cs = BuildCandidates(ctx, env);
  if (cs.model_matches == 0) {
    if (ctx.model == "auto" || ParseTier(ctx.model)) return Status::NotFound("No backend is configured for `" + ctx.model + "`.");
    return Status::NotFound("The model `" + ctx.model + "` does not exist or no backend serves it.");
  }
  std::vector<int> ids = std::move(cs.passing);
  Decision d;
  d.policy = name_;
  if (!ids.empty() && !filters_.empty()) {
    ids.erase(std::remove_if(ids.begin(), ids.end(),
                             [&](int i) {
                               const Backend& b = env.pool.at(i);
                               for (const auto& f : filters_)
                                 if (!f->Keep(ctx, b, ViewOf(env, i))) return true;
                               return false;
                             }),
              ids.end());
  }
  std::vector<int> set_aside;  // saturated: last in the chain (route/saturation.h)
  const std::string saturation = SkipSaturated(env, cs, ids, set_aside);
  if (!ids.empty()) {
    std::vector<double> scores;
    ScoreAll(ctx, cs, ids, scores);
    Cycle cycle{ctx, env, cs, ids, scores, scorer_order_, d};
    picker_->Pick(cycle, d.reason);
    if (d.reason.empty()) {
      d.reason = head_;
      for (const auto& ws : scorers_) {
        const size_t before = d.reason.size();
        d.reason += before == head_.size() ? ": " : ", ";
        const size_t mark = d.reason.size();
        ws.scorer->Detail(ctx, cs.all[ids.front()], d.reason);
        if (d.reason.size() == mark) d.reason.resize(before);
      }
    }
  }
  if (ids.empty()) {
    std::string why;
    for (const auto& c : cs.all) {
      if (c.filtered_by.empty() || c.filtered_by.rfind("does not serve", 0) == 0 || c.filtered_by.rfind("tier pinned", 0) == 0) continue;
      why += (why.empty() ? "" : "; ") + env.pool.at(c.backend).name() + ": " + c.filtered_by;
    }
    if (why.empty()) why = name_ + " allows none of the backends that could serve it";
    std::string msg = "No backend can serve this request (" + why + ").";
    if (ctx.network.link == LinkType::kOffline) msg = "Offline: edge and cloud are unreachable and the device cannot serve this request (" + why + ").";
    else if (ctx.privacy == Privacy::kDevice) msg = "X-MEC-Privacy: device keeps this request on the device, which cannot serve it now (" + why + ").";
    return Status::Unavailable(msg);
  }
  d.chain.resize(ids.size());
  for (size_t k = 0; k < ids.size(); ++k) d.chain[k] = cs.all[ids[k]].backend;
  const Candidate& primary = cs.all[ids.front()];
  d.primary_quality = primary.quality;
  // Shedding: every candidate is full and even the best cannot meet the deadline by waiting.
  // A device's queue is its client's own (an offline vehicle, a privacy=device request): a request
  // that only the device may serve waits for it rather than fail at once, however late.
  bool all_full = true, all_device = true;
  double best_p = 0, min_service = 1e9;
  for (int i : ids) {
    all_full &= cs.all[i].load >= 1.0;
    all_device &= cs.all[i].tier == Tier::kDevice;
    best_p = std::max(best_p, cs.all[i].p_meet);
    min_service = std::min(min_service, cs.all[i].latency_s);
  }
  if (all_full && !all_device && ctx.deadline_ms && best_p < shed_below_) {
    d.shed = true;
    d.retry_after_s = std::max(1.0, std::ceil(min_service));
    d.reason = fmt::format("shed: every candidate is at capacity and waiting cannot meet {}ms (best p(meet)={:.2f})", *ctx.deadline_ms, best_p);
  }
  if (hedge_ && d.chain.size() > 1 && primary.p_meet < hedge_threshold_) {
    d.hedge = true;
    d.hedge_delay_s = primary.ttft_s;
    if (ctx.deadline_ms) d.hedge_delay_s = std::min(d.hedge_delay_s, 0.3 * *ctx.deadline_ms / 1000.0);
  }
  for (int i : set_aside) d.chain.push_back(cs.all[i].backend);  // after any hedge was chosen
  if (!saturation.empty() && !d.shed) d.reason += "; " + saturation;
  if (primary.cold && !d.shed) {
    const auto& o = env.pool.at(primary.backend).options();
    d.reason += fmt::format("; {} is cold (its engine loads the model, ~{:.1f}s)", o.name, o.engine.cold_load_ms / 1000.0);
  }
  if (primary.prefix_tokens > 0 && !d.shed)
    d.reason += fmt::format("; {} holds ~{:.0f} of {} prompt tokens (prefix cache)", env.pool.at(primary.backend).name(),
                            primary.prefix_tokens, ctx.input_tokens);
  if (ctx.quality_sd >= 0 && !d.shed) {
    d.reason += "; ";
    AppendQualityNote(ctx, d.reason);
  }
  d.candidates = std::move(cs.all);
  return d;
}

Result<std::unique_ptr<Router>> MakeProfile(const ProfileOptions& p, const PolicyOptions& o) {
  std::vector<std::unique_ptr<Filter>> filters;
  for (const auto& name : p.filters) {
    auto f = MakeFilter(name, o);
    if (!f) return Status::InvalidArgument(fmt::format("profile {}: unknown filter '{}'", p.name, name));
    filters.push_back(std::move(f));
  }
  std::vector<Profile::WeightedScorer> scorers;
  for (const auto& sw : p.scorers) {
    auto s = MakeScorer(sw.scorer, o);
    if (!s) return Status::InvalidArgument(fmt::format("profile {}: unknown scorer '{}'", p.name, sw.scorer));
    if (!(sw.weight > 0) || !std::isfinite(sw.weight))
      return Status::InvalidArgument(fmt::format("profile {}: scorer {} needs a weight > 0, not {}", p.name, sw.scorer, sw.weight));
    scorers.push_back({std::move(s), sw.weight});
  }
  auto picker = MakePicker(p.picker, o);
  if (!picker) return Status::InvalidArgument(fmt::format("profile {}: unknown picker '{}'", p.name, p.picker));
  std::unique_ptr<Router> r = std::make_unique<Profile>(p.name, p.reason.empty() ? p.name : p.reason, std::move(filters),
                                                        std::move(scorers), std::move(picker), o);
  return r;
}

}  // namespace mec

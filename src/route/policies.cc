#include "route/policies.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

#include "context/tier_quality.h"
#include "route/filters.h"
#include "route/predict.h"

namespace mec {
namespace {

enum class Kind { kAdaptive, kCloudOnly, kEdgeOnly, kDeviceOnly, kStatic, kRoundRobin, kRandom, kLeastLatency, kLeastBusy, kCostFirst, kPreference };

struct NamedKind {
  const char* name;
  Kind kind;
};
constexpr NamedKind kKinds[] = {
    {"adaptive", Kind::kAdaptive},         {"cloud-only", Kind::kCloudOnly},   {"edge-only", Kind::kEdgeOnly},
    {"device-only", Kind::kDeviceOnly},    {"static", Kind::kStatic},          {"round-robin", Kind::kRoundRobin},
    {"random", Kind::kRandom},             {"least-latency", Kind::kLeastLatency}, {"least-busy", Kind::kLeastBusy},
    {"cost-first", Kind::kCostFirst},      {"preference", Kind::kPreference},
};

std::string Money(double usd) { return fmt::format("${:.6f}", usd); }

class Policy final : public Router {
 public:
  Policy(std::string name, Kind kind, PolicyOptions o) : name_(std::move(name)), kind_(kind), o_(std::move(o)) {}
  std::string_view name() const override { return name_; }
  Result<Decision> Decide(const RequestContext& ctx, const RouteEnv& env) const override;

 private:
  // Orders `ids` (indices into cs.all) best first and returns the reason; may drop candidates.
  std::string Order(const RequestContext& ctx, const RouteEnv& env, CandidateSet& cs, std::vector<int>& ids, Decision& d) const;
  std::string OrderAdaptive(const RequestContext& ctx, const RouteEnv& env, CandidateSet& cs, std::vector<int>& ids, Decision& d) const;

  std::string name_;
  Kind kind_;
  PolicyOptions o_;
  mutable std::atomic<uint64_t> rr_{0};
};

template <typename Key>
void SortBy(std::vector<int>& ids, const CandidateSet& cs, Key key) {
  std::stable_sort(ids.begin(), ids.end(), [&](int a, int b) { return key(cs.all[a]) < key(cs.all[b]); });
}

std::string Policy::OrderAdaptive(const RequestContext& ctx, const RouteEnv& env, CandidateSet& cs, std::vector<int>& ids, Decision& d) const {
  const double target = o_.deadline_target;
  // The minimum quality: a floor on this request, or its class's running average
  // (learn/quality_budget.h) for "auto" requests when a controller is given.
  QualityGate gate;
  gate.min_quality = ctx.min_quality;
  const bool per_request = ctx.min_quality_per_request.value_or(o_.min_quality_per_request);
  if (!per_request && env.quality_budget && ctx.model == "auto") gate = env.quality_budget->Gate(ctx.use_case, ctx.min_quality);
  d.quality_gate = gate;
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
    auto tie_end = std::find_if(feasible.begin(), feasible.end(), [&](int i) { return cs.all[i].cost_usd > cheapest * (1 + o_.cost_tie) + 1e-9; });
    std::stable_sort(feasible.begin(), tie_end, [&](int a, int b) {
      const auto &x = cs.all[a], &y = cs.all[b];
      if (std::abs(x.p_meet - y.p_meet) > 0.02) return x.p_meet > y.p_meet;
      return x.latency_s < y.latency_s;
    });
    SortBy(rest, cs, [](const Candidate& c) { return -(c.p_meet * c.quality); });
    const auto& p = cs.all[feasible.front()];
    ids = feasible;
    ids.insert(ids.end(), rest.begin(), rest.end());
    return prefix + fmt::format("{} meets quality {:.2f}>={}{} at {}", TierName(p.tier), p.quality, bar_text,
                                ctx.deadline_ms ? fmt::format(" and p(meet)={:.2f}", p.p_meet) : "", Money(p.cost_usd));
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
  return prefix + how + fmt::format(": {} (quality {:.2f}, p(meet)={:.2f}, {})", TierName(p.tier), p.quality, p.p_meet, Money(p.cost_usd));
}

std::string Policy::Order(const RequestContext& ctx, const RouteEnv& env, CandidateSet& cs, std::vector<int>& ids, Decision& d) const {
  auto only_tier = [&](Tier t) {
    ids.erase(std::remove_if(ids.begin(), ids.end(), [&](int i) { return cs.all[i].tier != t; }), ids.end());
    SortBy(ids, cs, [](const Candidate& c) { return c.load; });
    return fmt::format("{} only", TierName(t));
  };
  auto by_tier_distance = [&](Tier home) {
    SortBy(ids, cs, [&](const Candidate& c) { return std::make_pair(std::abs(static_cast<int>(c.tier) - static_cast<int>(home)), c.load); });
  };
  switch (kind_) {
    case Kind::kAdaptive: return OrderAdaptive(ctx, env, cs, ids, d);
    case Kind::kCloudOnly: return only_tier(Tier::kCloud);
    case Kind::kEdgeOnly: return only_tier(Tier::kEdge);
    case Kind::kDeviceOnly: return only_tier(Tier::kDevice);
    case Kind::kStatic: {
      Tier home = ParseTier(ctx.static_tier).value_or(Tier::kCloud);
      by_tier_distance(home);
      return ctx.use_case.empty() ? fmt::format("static: no use case, {}", TierName(home))
                                  : fmt::format("static: {} -> {}", ctx.use_case, TierName(home));
    }
    case Kind::kRoundRobin: {
      if (!ids.empty()) std::rotate(ids.begin(), ids.begin() + static_cast<long>(rr_.fetch_add(1, std::memory_order_relaxed) % ids.size()), ids.end());
      return "round-robin";
    }
    case Kind::kRandom: {
      for (size_t i = ids.size(); i > 1; --i) std::swap(ids[i - 1], ids[env.rng.Below(i)]);
      return "random";
    }
    case Kind::kLeastLatency:
      SortBy(ids, cs, [](const Candidate& c) { return c.latency_s; });
      return ids.empty() ? "least-latency" : fmt::format("least-latency: {:.0f}ms expected", cs.all[ids[0]].latency_s * 1000);
    case Kind::kLeastBusy:
      SortBy(ids, cs, [](const Candidate& c) { return c.load; });
      return "least-busy";
    case Kind::kCostFirst:
      SortBy(ids, cs, [](const Candidate& c) { return c.cost_usd; });
      return ids.empty() ? "cost-first" : "cost-first: " + Money(cs.all[ids[0]].cost_usd);
    case Kind::kPreference: {
      auto rank = [&](Tier t) {
        auto it = std::find(o_.auto_order.begin(), o_.auto_order.end(), t);
        return it == o_.auto_order.end() ? 99 : static_cast<int>(it - o_.auto_order.begin());
      };
      if (ctx.model == "auto")
        ids.erase(std::remove_if(ids.begin(), ids.end(), [&](int i) { return rank(cs.all[i].tier) == 99; }), ids.end());
      SortBy(ids, cs, [&](const Candidate& c) { return rank(c.tier); });
      return "preference order";
    }
  }
  return "";
}

Result<Decision> Policy::Decide(const RequestContext& ctx, const RouteEnv& env) const {
  CandidateSet cs = BuildCandidates(ctx, env);
  if (cs.model_matches == 0) {
    if (ctx.model == "auto" || ParseTier(ctx.model)) return Status::NotFound("No backend is configured for `" + ctx.model + "`.");
    return Status::NotFound("The model `" + ctx.model + "` does not exist or no backend serves it.");
  }
  std::vector<int> ids = cs.passing;
  Decision d;
  d.policy = name_;
  if (!ids.empty()) d.reason = Order(ctx, env, cs, ids, d);
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
  d.chain = ids;
  for (auto& i : d.chain) i = cs.all[i].backend;
  const Candidate& primary = cs.all[ids.front()];
  d.primary_quality = primary.quality;
  // Shedding: every candidate is full and even the best cannot meet the deadline by waiting.
  bool all_full = true;
  double best_p = 0, min_service = 1e9;
  for (int i : ids) {
    all_full &= cs.all[i].load >= 1.0;
    best_p = std::max(best_p, cs.all[i].p_meet);
    min_service = std::min(min_service, cs.all[i].latency_s);
  }
  if (all_full && ctx.deadline_ms && best_p < o_.deadline_target) {
    d.shed = true;
    d.retry_after_s = std::max(1.0, std::ceil(min_service));
    d.reason = fmt::format("shed: every candidate is at capacity and waiting cannot meet {}ms (best p(meet)={:.2f})", *ctx.deadline_ms, best_p);
  }
  if (o_.hedge && d.chain.size() > 1 && primary.p_meet < o_.hedge_threshold) {
    d.hedge = true;
    d.hedge_delay_s = primary.ttft_s;
    if (ctx.deadline_ms) d.hedge_delay_s = std::min(d.hedge_delay_s, 0.3 * *ctx.deadline_ms / 1000.0);
  }
  d.candidates = std::move(cs.all);
  if (ctx.quality_sd >= 0 && !d.shed) d.reason += "; " + QualityNote(ctx);
  return d;
}

}  // namespace

std::string QualityNote(const RequestContext& ctx) {
  // ASCII only: this goes into a header (X-MEC-Reason).
  std::string note = fmt::format("edge quality {:.2f} +-{:.2f}", ctx.weak_as_good, ctx.quality_sd);
  if (ctx.familiarity >= 0 && ctx.familiarity < 0.5 && ctx.judged_support < 3) {
    note += fmt::format(" (unsure: unlike the prompts the model was trained on, familiarity {:.2f}; {:.0f} judged like it)",
                        ctx.familiarity, ctx.judged_support);
  } else if (ctx.judged_support > 0) {
    note += fmt::format(" ({:.0f} judged like it)", ctx.judged_support);
  }
  // The model's name carries its version (logreg-stack-v1+judged.vN): every decision records it.
  if (!ctx.complexity_model.empty()) note += fmt::format(" [{}]", ctx.complexity_model);
  return note;
}

double BackendQuality(const RequestContext& ctx, const Backend& b) {
  const auto& r = b.options().quality_ratio;
  if (!r || (b.tier() == Tier::kDevice && ctx.device_quality_learned)) return ctx.quality(b.tier());
  // The device's ratio is relative to the edge model; the others' to their own tier's reference.
  const double reference = b.tier() == Tier::kDevice ? ctx.quality(Tier::kEdge) : ctx.quality(b.tier());
  return DeviceQualityFromEdge(reference, DeviceQualityAssumption{*r, ctx.joint_success_share});
}

CandidateSet BuildCandidates(const RequestContext& ctx, const RouteEnv& env) {
  CandidateSet cs;
  const auto& pool = env.pool;
  double strongest = 0;
  for (const auto& b : pool.all()) strongest = std::max(strongest, BackendQuality(ctx, *b));
  cs.strongest_quality = strongest > 0 ? strongest : 1;
  cs.all.reserve(pool.size());
  for (size_t i = 0; i < pool.size(); ++i) {
    const Backend& b = pool.at(i);
    static const BackendView kDefaultView;
    const BackendView& v = i < env.snapshot.backends.size() ? env.snapshot.backends[i] : kDefaultView;
    Candidate c;
    c.backend = static_cast<int>(i);
    c.tier = b.tier();
    if (FilterModel(ctx, b).empty()) ++cs.model_matches;
    c.filtered_by = HardFilters(ctx, b, v);
    c.passed_filters = c.filtered_by.empty();
    c.quality = std::clamp(BackendQuality(ctx, b) / cs.strongest_quality, 0.0, 1.0);
    if (env.adjust_quality && *env.adjust_quality) c.quality = (*env.adjust_quality)(c.backend, ctx.task_class, c.quality);
    PredictLatencyAndCost(ctx, b.options(), v, c);
    if (c.passed_filters) cs.passing.push_back(static_cast<int>(i));
    cs.all.push_back(std::move(c));
  }
  return cs;
}

const std::vector<std::string>& PolicyNames() {
  static const std::vector<std::string> kNames = [] {
    std::vector<std::string> v;
    for (const auto& k : kKinds) v.emplace_back(k.name);
    return v;
  }();
  return kNames;
}

std::unique_ptr<Router> MakePolicy(std::string_view name, const PolicyOptions& options) {
  for (const auto& k : kKinds)
    if (name == k.name) return std::make_unique<Policy>(std::string(name), k.kind, options);
  return nullptr;
}

}  // namespace mec

#include "sim/oracle_policy.h"

#include <algorithm>

#include "route/policies.h"

namespace mec::sim {

// Among answers that cannot be correct, an in-time one is worth this much U: enough to pay for
// the edge (a few hundredths of the reference cost), not for the cloud.
constexpr double kInTimeBonus = 0.05;
// The share the oracle holds above each minimum: its count is of the answers it chose, and a
// failover may answer elsewhere, so it keeps a little room.
constexpr double kContractMargin = 0.005;
// The multiplier's step per decision (U units per unit of share error).
constexpr double kLambdaStep = 0.02;

Result<Decision> OraclePolicy::Decide(const RequestContext& ctx, const RouteEnv& env) const {
  CandidateSet cs = BuildCandidates(ctx, env);
  if (cs.passing.empty() || !truth_) return Status::Unavailable("oracle: no backend can serve this request");
  const double ref = std::max(1e-12, truth_->ReferenceCost());
  ContractState& k = contract_[ctx.use_case];
  const double floor = std::min(1.0, ctx.min_quality + kContractMargin);
  struct Scored {
    int backend;
    double score, latency;
    bool up, as_good_up;
  };
  std::vector<Scored> s;
  for (int i : cs.passing) {
    const int b = cs.all[i].backend;
    const OracleView v = truth_->View(b);
    bool in_time = v.up;
    if (ctx.deadline_ms) in_time = in_time && v.latency_s * 1000 <= *ctx.deadline_ms;
    if (ctx.ttft_deadline_ms) in_time = in_time && v.ttft_s * 1000 <= *ctx.ttft_deadline_ms;
    const bool ok = in_time && v.correct;
    double score = (ok ? 1.0 : 0.0) + kInTimeBonus * (in_time ? 1.0 : 0.0) - 0.5 * v.cost_usd / ref;
    if (!v.as_good) score -= k.lambda;
    if (!v.up) score -= 10;  // down: only as a last resort
    s.push_back({b, score, v.latency_s, v.up, v.up && v.as_good});
    cs.all[i].score = score;
  }
  std::stable_sort(s.begin(), s.end(), [](const Scored& a, const Scored& b) {
    if (a.score != b.score) return a.score > b.score;
    return a.latency < b.latency;
  });
  // The hard guard: one more answer that is not as good would take the share below the floor.
  const double share_if_not = static_cast<double>(k.as_good) / static_cast<double>(k.chosen + 1);
  if (!s[0].as_good_up && share_if_not < floor) {
    auto good = std::find_if(s.begin(), s.end(), [](const Scored& x) { return x.as_good_up; });
    if (good != s.end()) std::rotate(s.begin(), good, good + 1);
  }
  if (s[0].up) {  // a request whose every candidate is down is counted by no one
    const bool good = s[0].as_good_up;
    ++k.chosen;
    k.as_good += good;
    k.lambda = std::max(0.0, k.lambda + kLambdaStep * (floor - (good ? 1.0 : 0.0)));
  }
  Decision d;
  d.policy = "oracle";
  for (const auto& x : s) d.chain.push_back(x.backend);
  d.reason = "oracle";
  d.candidates = std::move(cs.all);
  return d;
}

}  // namespace mec::sim

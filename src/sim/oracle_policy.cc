#include "sim/oracle_policy.h"

#include <algorithm>

#include "route/policies.h"

namespace mec::sim {

// Among answers that cannot be correct, an in-time one is worth this much U: enough to pay for
// the edge (a few hundredths of the reference cost), not for the cloud.
constexpr double kInTimeBonus = 0.05;

Result<Decision> OraclePolicy::Decide(const RequestContext& ctx, const RouteEnv& env) const {
  CandidateSet cs = BuildCandidates(ctx, env);
  if (cs.passing.empty() || !truth_) return Status::Unavailable("oracle: no backend can serve this request");
  const double ref = std::max(1e-12, truth_->ReferenceCost());
  struct Scored {
    int backend;
    double score, latency;
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
    if (!v.up) score -= 10;  // down: only as a last resort
    s.push_back({b, score, v.latency_s});
    cs.all[i].score = score;
  }
  std::stable_sort(s.begin(), s.end(), [](const Scored& a, const Scored& b) {
    if (a.score != b.score) return a.score > b.score;
    return a.latency < b.latency;
  });
  Decision d;
  d.policy = "oracle";
  for (const auto& x : s) d.chain.push_back(x.backend);
  d.reason = "oracle";
  d.candidates = std::move(cs.all);
  return d;
}

}  // namespace mec::sim

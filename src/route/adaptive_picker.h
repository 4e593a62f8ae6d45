#pragma once
// The `adaptive` picker (ours; docs/routing.md): meet the deadline with P >= deadline_target and
// the minimum quality, at the lowest expected cost. The minimum is held as the running average of
// the request's class (learn/quality_budget.h) when RouteEnv has a controller and the request is
// "auto" (unless it or the options say per request), else on every request. Candidates within
// cost_tie of the cheapest are ranked by P(meet), then latency; then the first and every other of
// them that is near-equal to it (the same tier, as much of the prompt cached, latency within
// `spread` of its; all meet the target, so P(meet) is not compared) take the lead at random
// (RouteEnv::rng), so gateways sharing one view of the backends (fleet state) spread over alike
// replicas rather than herd onto one. When nothing meets both, degrade
// in this order and say so: (1) keep the deadline, take the best quality; (2) keep the quality,
// take the best P(meet); (3) best P(meet) x quality. A lexicographic order, so it is a picker and
// reads no scores. Writes Decision::quality_gate, the feasible candidates' score (-cost) and the
// reason line's head (which candidates it ruled out and why, then what it chose).

#include "route/plugin.h"
#include "route/policy_options.h"

namespace mec {

class AdaptivePicker final : public Picker {
 public:
  explicit AdaptivePicker(const PolicyOptions& o)
      : deadline_target_(o.deadline_target),
        cost_tie_(o.cost_tie),
        spread_(o.spread),
        min_quality_per_request_(o.min_quality_per_request) {}
  std::string_view name() const override { return "adaptive"; }
  void Pick(Cycle& cycle, std::string& reason) const override;

 private:
  double deadline_target_;
  double cost_tie_;
  double spread_;
  bool min_quality_per_request_;
};

}  // namespace mec

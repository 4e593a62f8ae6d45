#pragma once
// The `oracle` policy (issue 5): the upper bound every policy is compared with. It runs the same
// hard filters as the gateway's policies (route/policies.h BuildCandidates), then orders the
// candidates by what actually happens to this request on each backend, which only the simulator
// knows: the true correctness of each tier's answer (the labels) and its noise-free latency in
// the current state of the world (outages, coverage gaps, queues; not jitter, future arrivals or
// 429s). Score = 1[up, correct, within the deadline] - 0.5 x cost / reference cost (the utility U
// of the issue) + 0.05 x 1[up and within the deadline] (so that a request no tier answers
// correctly still goes where it is in time when that is cheap), ties to the faster. It lives only
// in src/sim/: the gateway cannot know labels.

#include <memory>

#include "route/router.h"

namespace mec::sim {

// What the oracle may know about the current request on one backend.
struct OracleView {
  bool up = true;          // reachable and not in an outage
  bool correct = false;    // the answer on this backend is correct (labels)
  double ttft_s = 0;       // noise-free, queue included, network included
  double latency_s = 0;
  double cost_usd = 0;
};

class OracleTruth {
 public:
  virtual ~OracleTruth() = default;
  virtual OracleView View(int backend) const = 0;
  // The utility's cost normalizer (mean cost per request of cloud-only).
  virtual double ReferenceCost() const = 0;
};

class OraclePolicy final : public Router {
 public:
  std::string_view name() const override { return "oracle"; }
  // The simulator points the oracle at the truth of the request being decided.
  // REQUIRES: set before Decide; it must outlive the call.
  void SetTruth(const OracleTruth* truth) { truth_ = truth; }
  Result<Decision> Decide(const RequestContext& ctx, const RouteEnv& env) const override;

 private:
  const OracleTruth* truth_ = nullptr;
};

}  // namespace mec::sim

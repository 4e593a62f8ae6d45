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
//
// It keeps the use cases' quality contract (issue 14): in each use case, the share of answers as
// good as the cloud's stays at or above the use case's minimum (RequestContext::min_quality), as
// the metrics judge it. Per use case it counts the answers it has chosen and their as-good share,
// and charges a choice that is not as good a price lambda (a Lagrange multiplier, raised while the
// share runs below min + kContractMargin and lowered above it), so it spends the contract's slack
// where giving up "as good" gains the most U; and when one more such answer would take the share
// below the margin, it takes the best as-good candidate that is up instead. With hindsight, but
// greedy in arrival order: not the constrained optimum over the whole run.

#include <map>
#include <memory>
#include <string>

#include "route/router.h"

namespace mec::sim {

// What the oracle may know about the current request on one backend.
struct OracleView {
  bool up = true;          // reachable and not in an outage
  bool correct = false;    // the answer on this backend is correct (labels)
  bool as_good = true;     // not (the cloud's answer is correct and this one is not)
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
  // Forgets the contract's running counts: call at the start of every run.
  void Reset() { contract_.clear(); }
  Result<Decision> Decide(const RequestContext& ctx, const RouteEnv& env) const override;

 private:
  struct ContractState {
    int64_t chosen = 0, as_good = 0;
    double lambda = 0;
  };
  const OracleTruth* truth_ = nullptr;
  // Per use case. Mutable: Decide is const for the Router interface; the simulator runs one
  // decision at a time.
  mutable std::map<std::string, ContractState, std::less<>> contract_;
};

}  // namespace mec::sim

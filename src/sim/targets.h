#pragma once
// The scoreboard's targets for `adaptive` against `cloud-only`, the contract-keeping `oracle` and
// the baselines that keep the use cases' quality contract (issue 14, which replaced issue 5's),
// evaluated on one run's metrics. Reported, never used to tune anything.

#include <string>
#include <string_view>
#include <vector>

#include "sim/metrics.h"

namespace mec::sim {

struct TargetResult {
  std::string name;    // what is compared
  std::string value;   // the measured figure, e.g. "-23.1% (target <= -40%)"
  bool pass = false;
};

// Every policy but adaptive and the oracle.
bool IsBaseline(std::string_view policy);
// Empty when adaptive, cloud-only or oracle is missing from `policies`.
std::vector<TargetResult> EvaluateTargets(const std::vector<PolicyMetrics>& policies, const Scenario& s);
std::string TargetsTable(const std::vector<TargetResult>& targets);

}  // namespace mec::sim

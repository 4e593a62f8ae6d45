#pragma once
// The targets for `adaptive` against `cloud-only` and `oracle` (issue 5, "Targets"),
// evaluated on one run's metrics. Reported, never used to tune anything.

#include <string>
#include <vector>

#include "sim/metrics.h"

namespace mec::sim {

struct TargetResult {
  std::string name;    // what is compared
  std::string value;   // the measured figure, e.g. "-23.1% (target <= -40%)"
  bool pass = false;
};

// Empty when adaptive, cloud-only or oracle is missing from `policies`.
std::vector<TargetResult> EvaluateTargets(const std::vector<PolicyMetrics>& policies, const Scenario& s);
std::string TargetsTable(const std::vector<TargetResult>& targets);

}  // namespace mec::sim

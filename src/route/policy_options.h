#pragma once
// What the gateway's or the simulator's configuration tells every policy (route/policies.h).

#include <vector>

#include "config/options.h"

namespace mec {

struct PolicyOptions {
  double deadline_target = 0.9;  // adaptive: the P(meet deadline) a candidate needs
  // Every policy sheds (429) a request whose candidates are all full only when even the best
  // would meet its deadline by waiting with P below this: "more likely to miss than to make it".
  // Between this and deadline_target the request waits in a queue rather than failing at once
  // (an offline vehicle behind its busy on-board model, issue 17).
  double shed_below = 0.5;
  double cost_tie = 0.10;        // adaptive: within this fraction of the cheapest counts as a tie
  // adaptive: tied candidates of one tier whose latency is within this fraction of the best's
  // are chosen among at random (0: always the fastest).
  double spread = 0.10;
  // adaptive: hold each request's minimum quality as a floor (true, the default: what a header
  // asking for a minimum means to its sender), or as its class's running average through
  // RouteEnv::quality_budget (false; a floor when no controller is given).
  // A request may say which (RequestContext::min_quality_per_request).
  bool min_quality_per_request = true;
  bool hedge = false;
  double hedge_threshold = 0.5;  // hedge when the primary's P(meet) is below this
  std::vector<Tier> auto_order = {Tier::kEdge, Tier::kCloud, Tier::kDevice};  // preference
  // Profiles defined in config (routing.profiles): more policy names beside the built-in ones.
  std::vector<ProfileOptions> profiles;
};

}  // namespace mec

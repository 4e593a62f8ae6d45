#pragma once
// The routing policies. Every policy is a profile (route/profile.h, llm-d's scheduler): the
// shared hard filters and predictions, then its own filters, weighted scorers and one picker
// (route/filters.h, scorers.h, pickers.h). The built-in ones, under their historical names:
//
//   policy         filters       scorers (weight)                    picker
//   adaptive       -             -                                   adaptive (adaptive_picker.h)
//   cloud-only     cloud-tier    load (1)                            max-score
//   edge-only      edge-tier     load (1)                            max-score
//   device-only    device-tier   load (1)                            max-score
//   static         -             tier-distance (1), load (0.01)      max-score
//   round-robin    -             -                                   round-robin
//   random         -             -                                   random
//   least-latency  -             latency (1)                         max-score
//   least-busy     -             load (1)                            max-score
//   cost-first     -             cost (1)                            max-score
//   preference     auto-order    tier-order (1)                      max-score
//
// routing.profiles (config/options.h ProfileOptions) adds profiles under new names from the same
// plugins. Shared by all: errors, shedding, hedging and the reason line (route/profile.h).

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "route/candidate_set.h"
#include "route/policy_options.h"
#include "route/router.h"

namespace mec {

// Every built-in policy name, adaptive first.
const std::vector<std::string>& PolicyNames();
// The built-in names, then those of options.profiles (routing.profiles), in config order.
std::vector<std::string> PolicyNames(const PolicyOptions& options);
// A built-in policy, or a profile of options.profiles, by name; nullptr for an unknown name.
std::unique_ptr<Router> MakePolicy(std::string_view name, const PolicyOptions& options);
// The built-in policies' profiles (plugin names and weights), in PolicyNames() order.
const std::vector<ProfileOptions>& BuiltinProfileOptions();

}  // namespace mec

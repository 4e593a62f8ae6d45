#pragma once
// Skipping backends whose serving engine is saturated (docs/engines.md, "Routing on what the
// engines say"): a step every profile shares, after its own filters and before its scorers.
//
// A candidate with Candidate::saturated (its engine over its queue or KV threshold, loading, or
// silent past engine_stale_ms) is set aside while at least one candidate that is not saturated
// remains, so a request overflows to another replica or tier before a full one times out. The set
// aside are not lost: the profile appends them to the decision's chain after the others, as last
// resorts for failover and continuation (a full replica beats an error). When every candidate is
// saturated none is set aside (a queue beats a refusal; shedding still applies). No I/O, no state.

#include <string>
#include <vector>

#include "route/candidate_set.h"
#include "route/router.h"

namespace mec {

// Moves the saturated candidates from `ids` (indices into cs.all) to `set_aside` (in pool order) as
// above, and records each one's reason in its filtered_by ("saturated: 7 waiting > 5"). Returns
// the reason line's note:
//   ""                                                         nothing saturated
//   "overflow: every edge replica saturated (e1: 7 waiting > 5)"  a tier lost all its candidates
//   "skipped saturated e1: 7 waiting > 5"                      others of its tier remain
//   "every candidate saturated"                                none dropped
std::string SkipSaturated(const RouteEnv& env, CandidateSet& cs, std::vector<int>& ids, std::vector<int>& set_aside);

}  // namespace mec

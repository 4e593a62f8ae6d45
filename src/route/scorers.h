#pragma once
// The scorer plugins (route/plugin.h): each scores the surviving candidates in [0, 1], 1 best.
//
//   latency        lowest expected latency: (max - x) / (max - min) over the survivors (all 1 when
//                  they are equal); detail "120ms expected"
//   cost           lowest expected cost, normalized the same way; detail "$0.000012"
//   load           lowest in_flight / capacity (or its engine's (running + waiting) / slots when
//                  higher), normalized the same way
//   queue          fewest requests waiting: its engine's count (docs/engines.md), else its own
//                  in-flight requests beyond capacity; detail "3 waiting"
//   kv-cache       lowest KV-cache use its engine reports; a candidate whose engine reports none
//                  scores the mean of the others' scores; detail "KV cache 0.42"
//   prefix         the share of the prompt's blocks its KV cache probably holds (prefix affinity,
//                  cache/prefix_index.h; 0 for all without prompt blocks); detail "~1024 prompt
//                  tokens cached"
//   quality        the candidate's expected quality (already on [0, 1]); detail "quality 0.84"
//   p-meet         its P(meets the deadlines); detail "p(meet)=0.97"
//   tier-distance  nearness to the request's tier in the original design's use-case table
//                  (X-MEC-Use-Case; cloud without one): 1 same tier, 0.5 one away, 0 two away;
//                  detail "vehicle.traffic -> edge" or "no use case, cloud"
//   tier-order     rank in routing.auto_order: (n - position) / n, 0 when not listed
//
// Normalizing over the survivors keeps the order of the raw values (Scorer::Key), up to rounding:
// two values a few ulps apart may get one score, and the max-score picker then orders them by
// their keys. So one scorer under max-score orders exactly as sorting by its value would, ties
// in pool order. A value that is not finite scores 0.

#include <memory>
#include <string_view>

#include "route/plugin.h"
#include "route/policy_options.h"

namespace mec {

// nullptr for a name not in kRoutingScorerNames (config/options.h).
std::unique_ptr<Scorer> MakeScorer(std::string_view name, const PolicyOptions& o);

}  // namespace mec

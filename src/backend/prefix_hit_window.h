#pragma once
// The prefix-cache hit rate over a recent window, from an engine's cumulative counters (vLLM
// exports queries and hits as counters, and its docs compute the rate from their deltas:
// rate(hits) / rate(queries)). Pure; not thread-safe (one per polled backend).

#include <deque>
#include <optional>
#include <utility>

#include "core/clock.h"

namespace mec {

struct PrefixCacheCounters {
  double queries = 0;  // tokens looked up in the prefix cache, since the engine started
  double hits = 0;     // of which found
};

class PrefixHitWindow {
 public:
  explicit PrefixHitWindow(Duration window = std::chrono::seconds(10)) : window_(window) {}

  // Adds the counters read at `now` (REQUIRES: now not before the previous Add) and returns
  // hits / queries over the last `window` (measured from the newest reading at least `window`
  // old, else the oldest), in [0,1]; nullopt before two readings or when no query came in the
  // window. A counter that went down (the engine restarted) starts over from this reading.
  std::optional<double> Add(TimePoint now, PrefixCacheCounters c);

 private:
  Duration window_;
  std::deque<std::pair<TimePoint, PrefixCacheCounters>> readings_;
};

}  // namespace mec

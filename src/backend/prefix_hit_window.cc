#include "backend/prefix_hit_window.h"

#include <algorithm>

namespace mec {

std::optional<double> PrefixHitWindow::Add(TimePoint now, PrefixCacheCounters c) {
  if (!readings_.empty()) {
    const PrefixCacheCounters& last = readings_.back().second;
    if (c.queries < last.queries || c.hits < last.hits) readings_.clear();  // a reset
  }
  readings_.emplace_back(now, c);
  // Keep one reading at or beyond the window's start as the base.
  while (readings_.size() >= 2 && readings_[1].first <= now - window_) readings_.pop_front();
  if (readings_.size() < 2) return std::nullopt;
  const PrefixCacheCounters& base = readings_.front().second;
  const double queries = c.queries - base.queries;
  if (!(queries > 0)) return std::nullopt;
  return std::clamp((c.hits - base.hits) / queries, 0.0, 1.0);
}

}  // namespace mec

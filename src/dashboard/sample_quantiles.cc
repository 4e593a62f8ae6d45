#include "dashboard/sample_quantiles.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace mec {

double SortedQuantile(const std::vector<float>& sorted, double q) {
  if (sorted.empty()) return std::numeric_limits<double>::quiet_NaN();
  q = std::clamp(q, 0.0, 1.0);
  const double h = q * static_cast<double>(sorted.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(h));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (h - static_cast<double>(lo)) * (static_cast<double>(sorted[hi]) - sorted[lo]);
}

Percentiles Summarize(std::vector<float>& sample) {
  Percentiles p;
  p.n = static_cast<int64_t>(sample.size());
  if (sample.empty()) return p;
  std::sort(sample.begin(), sample.end());
  p.p50 = SortedQuantile(sample, 0.50);
  p.p95 = SortedQuantile(sample, 0.95);
  p.p99 = SortedQuantile(sample, 0.99);
  return p;
}

}  // namespace mec

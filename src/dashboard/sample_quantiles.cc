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

double SelectQuantile(std::vector<float>& v, double q) {
  if (v.empty()) return std::numeric_limits<double>::quiet_NaN();
  q = std::clamp(q, 0.0, 1.0);
  const double h = q * static_cast<double>(v.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(h));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(lo), v.end());
  const double a = v[lo];
  if (lo + 1 >= v.size()) return a;
  const double b = *std::min_element(v.begin() + static_cast<std::ptrdiff_t>(lo) + 1, v.end());
  return a + (h - static_cast<double>(lo)) * (b - a);
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

#pragma once
// Quantiles of a small sample, as free functions the tests can call.

#include <vector>

#include "dashboard/live_stats.h"

namespace mec {

// The q-quantile (q in [0,1]) of an ascending-sorted sample, by linear interpolation between
// order statistics (R's type 7). NaN for an empty sample.
double SortedQuantile(const std::vector<float>& sorted, double q);

// The same value as SortedQuantile(sorted copy of sample, q), by selection in O(n): reorders
// `sample`, does not sort it.
double SelectQuantile(std::vector<float>& sample, double q);

// p50 / p95 / p99 of `sample` (sorted in place).
Percentiles Summarize(std::vector<float>& sample);

}  // namespace mec

#pragma once
// Offline evaluation of a weak/strong router on labelled items (RouteLLM's measures).
//
// A router gives each item a score = P(weak model as good as strong). Routing a fraction f of the
// items to the strong model means sending the f*n items with the lowest scores; the rest go to the
// weak model. Items with equal scores are ordered at random, and every figure here is the expected
// value over that order (so a constant score is exactly the expected random router).
//
// - calls_saved: 1 - the smallest strong-call fraction k/n (k whole items) whose expected routed
//   accuracy is at least quality_target x the strong-only accuracy (RouteLLM reports the
//   strong-call fraction).
// - apgr: the average, over the whole curve f in [0, 1] (trapezoids between k = 0..n), of the
//   performance gap recovered (acc(f) - acc_weak) / (acc_strong - acc_weak); 0.5 for random
//   routing; it can exceed 1 where the weak model is right and the strong one wrong.
// - auc: ROC AUC of the score against the label "weak as good" (ties count 1/2).

#include <cstddef>
#include <string>
#include <vector>

#include "core/rng.h"

namespace mec {

struct RoutedItem {
  double score = 0.0;          // higher: more likely the weak model is as good
  bool weak_correct = false;
  bool strong_correct = false;
};

struct RoutingMetrics {
  size_t n = 0;
  double weak_accuracy = 0.0;
  double strong_accuracy = 0.0;
  double quality_target = 0.95;
  double strong_fraction = 0.0;  // at the quality target
  double calls_saved = 0.0;      // 1 - strong_fraction
  double apgr = 0.0;             // NaN when strong and weak accuracies are equal
  double auc = 0.0;              // NaN when all items have the same label
};

// REQUIRES: 0 < quality_target <= 1. Zero items give all-zero metrics.
RoutingMetrics EvaluateRouting(const std::vector<RoutedItem>& items, double quality_target = 0.95);

// One point of the expected routing curve.
struct RoutingCurvePoint {
  double strong_fraction;
  double accuracy;
};
// The curve at the tie-group boundaries (piecewise linear between points), from f=0 to f=1.
std::vector<RoutingCurvePoint> RoutingCurve(const std::vector<RoutedItem>& items);

// ROC AUC of `score` for the label weak-as-good; NaN when only one class is present.
double RoutingAuc(const std::vector<RoutedItem>& items);

// The AUC inside each group (e.g. an MMLU subject), averaged with the groups' sizes as weights;
// groups with one class only are left out. It measures what a score knows *within* groups, which a
// score of the group alone cannot (0.5). NaN when no group has both classes.
// REQUIRES: group.size() == items.size().
double WithinGroupAuc(const std::vector<RoutedItem>& items, const std::vector<std::string>& group);

// Paired bootstrap of calls_saved(a) - calls_saved(b) for two routers' scores of the same items
// (a[i] and b[i] are the same item): the items are resampled with replacement, the same draw for
// both, `reps` times. `sd` is the bootstrap standard error of the difference on these items.
// REQUIRES: a.size() == b.size(), reps >= 2.
struct PairedDifference {
  double observed = 0.0;  // on the items as given
  double mean = 0.0;      // over the resamples
  double sd = 0.0;
  int reps = 0;
};
PairedDifference BootstrapCallsSavedDifference(const std::vector<RoutedItem>& a, const std::vector<RoutedItem>& b,
                                               int reps, double quality_target, Rng& rng);

}  // namespace mec
